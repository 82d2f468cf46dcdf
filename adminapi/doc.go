// Package adminapi is the wire format of keyroll's admin API (keys,
// events, timeline, applications, test users) and a [Client] for it, as
// the command line and the rollover drill use it. It holds no server code:
// the handlers are in issuer/admin.
package adminapi

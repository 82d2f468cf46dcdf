package main

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "admins create",
		summary: "make a web console administrator",
		usage: `Usage: keyroll admins create NAME [--password-stdin] [--server URL] [--json]

Makes an administrator who can sign in to the web console (/console/ on the
issuer) and roll, revoke and override keys there. Without --password-stdin
the issuer generates a password and it is printed this once; with it, the
first line of standard input is the password (12 to 1024 bytes). The issuer
keeps only an argon2id hash. Administrators are not test users: they cannot
sign in to applications, and test users cannot sign in to the console.

Examples:
  keyroll admins create ada
  printf '%s\n' "$ADA_PASSWORD" | keyroll admins create ada --password-stdin
`,
		run: runAdminsCreate,
	})
	register(&command{
		name:    "admins list",
		summary: "list the web console administrators",
		usage: `Usage: keyroll admins list [--server URL] [--json]

Lists the console administrators and when they were made. Passwords are
never shown.

Examples:
  keyroll admins list
`,
		run: runAdminsList,
	})
	register(&command{
		name:    "admins delete",
		summary: "remove a web console administrator",
		usage: `Usage: keyroll admins delete NAME [--server URL]

Removes a console administrator and ends every console session of theirs at
once, on every replica.

Examples:
  keyroll admins delete ada
`,
		run: runAdminsDelete,
	})
}

func runAdminsCreate(ctx context.Context, e *env, args []string) int {
	return runCreateWithPassword(ctx, e, commands["admins create"], args, "administrator NAME", "console administrator",
		func(ctx context.Context, c *adminapi.Client, name, password string) (string, string, any, error) {
			out, err := c.CreateAdmin(ctx, name, password)
			if err != nil {
				return "", "", nil, err
			}
			return out.Admin.Name, out.Password, out, nil
		})
}

func runAdminsList(ctx context.Context, e *env, args []string) int {
	c := commands["admins list"]
	call, code := parseClientCall(c, e, args, 0, "")
	if code >= 0 {
		return code
	}
	admins, err := call.client.Admins(ctx)
	if err != nil {
		return failErr(e, c, err)
	}
	if call.json {
		writeJSONOut(e.stdout, admins)
		return exitOK
	}
	t := newTable(e.stdout, "ADMINISTRATOR", "CREATED")
	for _, a := range admins {
		t.row(a.Name, a.CreatedAt.UTC().Format(time.RFC3339))
	}
	t.flush()
	return exitOK
}

func runAdminsDelete(ctx context.Context, e *env, args []string) int {
	return runDelete(ctx, e, commands["admins delete"], args, "administrator NAME", "console administrator", func(ctx context.Context, call clientCall) error {
		return call.client.DeleteAdmin(ctx, call.args[0])
	})
}

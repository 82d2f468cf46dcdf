package main

import (
	"flag"

	"github.com/keyroll/keyroll/issuer"
)

// defaultServer is where client commands look for the issuer.
const defaultServer = "http://127.0.0.1:8080"

// clientFlags adds --server to fs; call client() after parsing.
type clientFlags struct{ server string }

func (cf *clientFlags) define(fs *flag.FlagSet, e *env) {
	def := e.getenv("KEYROLL_SERVER")
	if def == "" {
		def = defaultServer
	}
	fs.StringVar(&cf.server, "server", def, "issuer admin API base URL (or KEYROLL_SERVER); the token comes from KEYROLL_ADMIN_TOKEN")
}

func (cf *clientFlags) client(e *env) *issuer.Client {
	return &issuer.Client{BaseURL: cf.server, Token: e.getenv("KEYROLL_ADMIN_TOKEN")}
}

// Package httpjson writes JSON answers the way every keyroll endpoint
// does: indented, never cached.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers code with v as JSON, Cache-Control: no-store.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

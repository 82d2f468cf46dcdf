package watch

import "testing"

// FuzzParseState: a state file is read or refused with an error, and a
// state that is read can be used (every provider present).
func FuzzParseState(f *testing.F) {
	for _, s := range []string{`{"version":1,"providers":{}}`, `{"version":1,"providers":{"a":null}}`, `{"version":2}`, `{}`, `null`, `{"version":1,"providers":{"a":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseState(data, "state.json")
		if err != nil {
			return
		}
		for name := range st.Providers {
			_ = st.provider(name)
		}
		if err := st.Save(t.TempDir() + "/state.json"); err != nil {
			t.Fatal(err)
		}
	})
}

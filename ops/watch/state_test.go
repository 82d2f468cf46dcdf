package watch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	st, err := LoadState(path)
	if err != nil || len(st.Providers) != 0 {
		t.Fatalf("missing file: %v %+v", err, st)
	}
	st.provider("p").Keys["AB"] = &KeyState{ID: "AB", KID: "k", FirstSeen: t0}
	st.Pending = []Event{newEvent(t0, "p", KeyAdded, nil, "x")}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	back, err := LoadState(path)
	if err != nil || back.Providers["p"].Keys["AB"].KID != "k" || len(back.Pending) != 1 {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	for name, doc := range map[string]string{"corrupt": `{"version":1,"providers":`, "future": `{"version":9}`} {
		os.WriteFile(path, []byte(doc), 0o600)
		if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s state: %v", name, err)
		}
	}
}

func TestValidateWebhook(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:9000/hook", "https://hooks.example/x?token=1"} {
		if err := ValidateWebhook(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "hooks.example/x", "ftp://h/x", "https://", "http://%zz", "javascript:alert(1)"} {
		if err := ValidateWebhook(bad); !errors.Is(err, ErrBadWebhook) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

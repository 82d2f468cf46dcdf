package signin

import "testing"

func TestLoginFormParse(t *testing.T) {
	for _, page := range []string{"", "<html>hello</html>", `<form method="post" action="authorize"></form>`} {
		if _, err := ParseLoginForm([]byte(page)); err == nil {
			t.Errorf("ParseLoginForm(%q) succeeded", page)
		}
	}
}

package signin

import "testing"

func TestLoginFormParse(t *testing.T) {
	for _, page := range []string{"", "<html>hello</html>", `<form method="post" action="authorize"></form>`} {
		if _, err := ParseLoginForm([]byte(page)); err == nil {
			t.Errorf("ParseLoginForm(%q) succeeded", page)
		}
	}
}

// FuzzParseLoginForm: any page is read as keyroll's sign-in form or
// refused; an accepted one always carries its login_request.
func FuzzParseLoginForm(f *testing.F) {
	f.Add([]byte(`<form method="post" action="authorize"><input type="hidden" name="login_request" value="x.y"></form>`))
	f.Add([]byte(`<p id="error" class="error" role="alert">no</p>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		form, err := ParseLoginForm(page)
		if err == nil && !form.Fields.Has("login_request") {
			t.Fatalf("accepted a form without login_request: %+v", form)
		}
	})
}

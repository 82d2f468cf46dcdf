package admin

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
)

// FuzzDecode: every admin request body type is decoded strictly or
// refused with 400, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"key":"A"}`, `{"urgent":true}`, `{"apply":true,"apply":false}`, `{"name":"a","redirect_uris":["https://x/cb"]}`,
		`{"key":"A"} x`, `{"KEY":"a","key":"b"}`, `[`, `"\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, v := range []any{&adminapi.RevokeRequest{}, &adminapi.RotateRequest{}, &adminapi.RepairRequest{},
			&adminapi.CreateAppRequest{}, &adminapi.OverrideRequest{}} {
			w := httptest.NewRecorder()
			if !decode(w, httptest.NewRequest("POST", "/admin/x", strings.NewReader(body)), v) && w.Code != 400 {
				t.Fatalf("refused with %d", w.Code)
			}
		}
	})
}

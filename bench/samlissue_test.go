package bench

import "testing"

// TestIssueImplementations: every implementation issues a response.
func TestIssueImplementations(t *testing.T) {
	s, err := NewIssueSuite()
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range s.Impls {
		if err := im.Issue(); err != nil {
			t.Errorf("%s: %v", im.Name, err)
		}
	}
}

// BenchmarkSAMLIssue issues one signed Response (Response and Assertion
// signed) with each implementation, and paired against two raw RSA
// signatures:
//
//	go test -run '^$' -bench SAMLIssue -benchmem
func BenchmarkSAMLIssue(b *testing.B) {
	s, err := NewIssueSuite()
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range s.Impls {
		b.Run(im.Name, s.Benchmark(im))
		if im.Name != Floor {
			b.Run(im.Name+"/paired", s.Paired(im))
		}
	}
}

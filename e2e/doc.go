// Package e2e drives keyroll's web console in a real browser: headless
// Chromium (Debian's chromium package) through the DevTools protocol with
// chromedp. It is its own module so that chromedp stays out of keyroll's
// dependencies. Without a chromium binary the tests skip with a message;
// under CI=true they fail instead (.ci/run installs chromium).
//
//	cd e2e && go test ./...
//
// KEYROLL_E2E_ARTIFACTS names a directory for the screenshots the tests
// take (default: the test's temporary directory, removed afterwards).
package e2e

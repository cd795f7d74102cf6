// Package e2e holds end-to-end tests that build the real logbucket binary,
// start it as a child process on a temporary data directory and check the
// durability promises of its HTTP API: acknowledged records survive SIGKILL,
// batch ids make retries safe across restarts, bad input is rejected as
// documented without hurting the server, and the pull API and consumer groups
// behave as specified.
//
// Run with `go test ./test/e2e/`. Environment:
//
//	LOGBUCKET_LONG=1          the kill -9 loop runs 200 iterations instead of 3
//	                          (every fourth one a graceful SIGTERM under load)
//	LOGBUCKET_SEED=N          repeat a kill -9 loop run (its seed is logged)
//	LOGBUCKET_E2E_BIN=PATH    test a prebuilt binary instead of building
//	                          ./cmd/logbucket in TestMain
//	LOGBUCKET_SKIP_CLIENTS=1  skip the real-client tests (clients_*_test.go:
//	                          syslog-ng, npm clients installed by
//	                          scripts/install-client-deps.sh); without it a
//	                          missing client is a failure
package e2e

// Package app wires logbucket's components from a configuration and runs
// them: the commit log, the HTTP server, metrics and logging. It owns every
// goroutine it starts and stops them on shutdown, in order: stop accepting
// requests, finish in-flight ones, then close the commit log.
package app

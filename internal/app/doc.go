// Package app wires logbucket's components from a configuration and runs
// them: the commit log, the HTTP server, the syslog listeners, metrics and
// logging. It owns every goroutine it starts and stops them on shutdown, in
// order: stop accepting requests and syslog connections and datagrams,
// finish in-flight requests and append what the syslog listeners already
// read (both within http.shutdown_timeout), then close the index and the
// commit log.
package app

// Package syslog receives syslog: it parses RFC 5424 and RFC 3164
// messages, frames TCP streams, and runs the TCP, TLS and UDP listeners
// that turn messages into records with the shared ingest rules (package
// ingest) and hand them, in batches, to an Appender.
//
// # Parsing
//
// Parser.Parse detects the format of each message. After a valid PRI
// ("<0>" to "<191>"), a VERSION and a space ("1 ") mean RFC 5424; if the
// RFC 5424 header then does not parse (bad timestamp, missing field), or
// there is no VERSION, the message is RFC 3164, which always parses: what
// it does not recognise stays in the message text. A message without a
// valid PRI is kept whole as the message, with the receipt time and the
// field unparsed="true". Nothing is ever dropped; parsing never fails
// and never panics.
//
// RFC 5424: NILVALUE "-" means an absent field; structured data may hold
// several elements, and values are unescaped (\" \\ \]; a backslash before
// any other byte is kept). A malformed structured data element keeps the
// header fields, and the message is the rest of the input from the
// element on. Structured data and MSG may be missing.
//
// RFC 3164: the timestamp is "Mmm dd hh:mm:ss" (day padded with a space or
// a zero, optional fraction, optional year before the time as Cisco sends
// it) or RFC 3339 with or without an offset (rsyslog's forward format).
// Without an offset the listener's time zone applies (UTC by default).
// Without a year it is the current year, or last year if that puts the
// time more than a day in the future. The hostname is the word after the
// timestamp, unless that word is a tag (a missing hostname). The tag is
// recognised by its "[PID]" (with or without a colon after it) or by a
// colon followed by a space; a word without either marker stays in the
// message.
//
// In both formats the message text loses a leading byte order mark
// (loggen sends one, as RFC 5424 allows) and its leading spaces (rsyslog
// forwards legacy messages with the space that followed the tag; the cost
// is that deliberate indentation at the start of a message is lost), and
// trailing LF, CR and NUL bytes.
//
// # Records
//
// A message becomes one record, through ingest.Builder:
//
//	PRI facility    facility = kern user mail daemon auth syslog lpr news uucp
//	                cron authpriv ftp ntp security console solaris-cron local0…local7
//	PRI severity    level = emergency alert critical error warning notice info debug
//	HOSTNAME        hostname
//	APP-NAME / TAG  app_name
//	PROCID / [PID]  proc_id
//	MSGID           msg_id
//	SD-PARAM        SDID.param, e.g. exampleSDID@32473.iut
//	MSG             the message: the first name of ingest.Options.MsgFields, _msg by default
//	TIMESTAMP       the record's time (Builder.SetTime), nanoseconds kept,
//	                offsets applied; the receipt time when absent
//
// Absent fields are absent from the record. The configured stream fields
// (hostname and app_name by default; any of the names above may be used)
// are added with Builder.AddStream. Then the ingest rules apply: UTF-8
// repair, MaxFields, MaxFieldNameBytes, and MaxLineBytes truncation with
// the _truncated field.
//
// # Framing
//
// On TCP and TLS, Framer detects the framing of every message, so that a
// connection may mix them: MSG-LEN SP (a non-zero count of at most 9
// digits, then a space) starts an octet-counted frame (RFC 6587 3.4.1);
// anything else is a message ending at LF or NUL (3.4.2), a CR before the
// LF is dropped. syslog-ng and rsyslog both put an LF inside the counted
// frame: it is trimmed. Empty messages are skipped. A message longer
// than Config.MaxMessageBytes (64 KiB by default, rsyslog's default) is
// cut, not dropped: its first MaxMessageBytes bytes become a record with
// _truncated holding its size on the wire, it is counted under the
// ingest.ReasonTruncated discard reason, and the rest of it is read and
// discarded. A stream that ends inside a message yields that message, cut.
// On UDP every datagram is one message.
//
// # Listeners
//
// A Listener (New, Start, Close) serves one socket for one bucket. Each
// TCP or TLS connection has one goroutine that reads, decodes and appends:
// messages are batched per connection and appended when a batch holds
// Config.BatchMessages messages or Config.BatchBytes bytes, or
// Config.BatchDelay after its first message, whichever comes first, and
// when the connection ends. The UDP socket has one such goroutine. Extra
// connections past Config.MaxConnections are closed at once and counted;
// a connection on which no complete message arrives for
// Config.IdleTimeout (time spent appending does not count) is closed after
// its batch is appended. A connection holds at most about
// MaxMessageBytes of buffer and a batch of BatchBytes of messages, so
// MaxConnections bounds the listener's memory; there is no budget shared
// with the HTTP receivers.
//
// Syslog cannot acknowledge, so a failing append is handled by not
// reading: the goroutine appends before it reads on, and while the
// appender returns an error wrapping ErrTemporary it retries the same
// batch with exponential backoff (50 ms to 5 s), indefinitely, so that a
// TCP sender is held back by flow control. Any other error drops the
// batch (counted as ReasonAppendFailed) and closes the connection, so
// that the sender keeps what it has not sent and reconnects; on UDP the
// batch is dropped and reading goes on. Close stops accepting and
// reading, appends what was read (once, without retries; what fails is
// counted as ReasonShuttingDown) and waits for every goroutine; cancel
// the context given to Start to abort appends in progress.
//
// Metrics go to the Metrics interface (Received, Stored, Discarded,
// Connection), called once per batch and per connection event.
//
// Concurrency: a Listener's methods are safe for concurrent use. Parser
// is stateless. Decoder and Framer belong to one goroutine each.
package syslog

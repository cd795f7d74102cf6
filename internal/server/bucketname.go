package server

import "strings"

// maxBucketNameBytes is the longest bucket name (config.ValidBucketName).
const maxBucketNameBytes = 63

// bucketNameFrom maps a name from another system (an Elasticsearch index,
// a Loki tenant) to a bucket name, so that the default names of shippers
// (logs-2026.11.22, filebeat-8.15.0, fluent-bit) keep their data flowing:
//
//   - ASCII letters are lower-cased;
//   - every other character outside [a-z0-9_-] ('.', '*', ':', spaces,
//     non-ASCII characters, each invalid UTF-8 byte) becomes '-';
//   - leading '-' and '_' are removed (a bucket starts with a letter or a
//     digit);
//   - the result is cut to 63 bytes.
//
// A valid bucket name maps to itself. It returns "" when nothing is left
// (a name made only of '-', '_' and invalid characters).
func bucketNameFrom(name string) string {
	var b strings.Builder
	b.Grow(min(len(name), maxBucketNameBytes))
	for _, r := range name {
		switch {
		case b.Len() == maxBucketNameBytes:
			return b.String()
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case b.Len() == 0: // no leading '-' or '_'
		case r == '_':
			b.WriteByte('_')
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

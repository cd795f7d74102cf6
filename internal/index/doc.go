// Package index holds the text semantics that indexing and querying must
// agree on, and the index structures built from them.
//
// Tokens: a token is a maximal run of Unicode letters, digits and '_'.
// A word filter on Latin text matches whole tokens, case-sensitively, as
// in VictoriaLogs' LogsQL. Hangul is different on purpose: Korean attaches
// particles to words (결제가, 결제를), so a filter word that contains
// Hangul matches anywhere inside a token; to serve that from an index,
// every Hangul run is also indexed as syllable unigrams and bigrams.
//
// Everything here is pure and safe for concurrent use.
package index

package loki

import (
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestDecodeProto(t *testing.T) {
	const sec, nanos = 1795303594, 472000000
	entry := func(line string) []byte { return pbEntry{sec: sec, nanos: nanos, line: line}.marshal() }
	tests := []struct {
		name string
		msg  []byte
		want []string
	}{
		{"two streams", pbPush(
			pbStream{`{level="info",app="billing"}`, []pbEntry{{sec: sec, nanos: nanos, line: "a"}, {sec: sec, nanos: nanos + 1, line: "b"}}},
			pbStream{`{app="x"}`, []pbEntry{{sec: 1, line: "c"}}}),
			[]string{
				`time=1795303594472000000 msg="a" stream:app="billing" stream:level="info"`,
				`time=1795303594472000001 msg="b" stream:app="billing" stream:level="info"`,
				`time=1000000000 msg="c" stream:app="x"`,
			}},
		{"structured metadata", pbPush(pbStream{`{a="b"}`, []pbEntry{{sec: 1, line: "m", md: [][2]string{{"trace_id", "abc"}, {"a", "md"}, {"_msg", "md"}, {"empty", ""}}}}}),
			[]string{`time=1000000000 msg="m" stream:a="b" trace_id="abc"`}},
		{"no timestamp is receipt time", pbPush(pbStream{`{a="b"}`, []pbEntry{{line: "x"}}}),
			[]string{`msg="x" stream:a="b"`}},
		{"nanos only", pbPush(pbStream{`{a="b"}`, []pbEntry{{nanos: 5, line: "x"}}}),
			[]string{`time=5 msg="x" stream:a="b"`}},
		{"latest representable time", pbPush(pbStream{`{a="b"}`, []pbEntry{{sec: math.MaxInt64 / 1_000_000_000, nanos: math.MaxInt64 % 1_000_000_000, line: "x"}}}),
			[]string{`time=9223372036854775807 msg="x" stream:a="b"`}},
		{"bad timestamps", pbPush(pbStream{`{a="b"}`, []pbEntry{{sec: -1, line: "x"}, {sec: 1, nanos: 1e9, line: "x"}, {sec: 1, nanos: -1, line: "x"}, {sec: math.MaxInt64/1_000_000_000 + 1, line: "x"}, {sec: 2, line: "ok"}}}),
			[]string{
				`time=2000000000 msg="ok" stream:a="b"`,
				`#1 invalid_time: timestamp -1s + 0ns is out of range (1970 to 2262, nanos below 1e9)`,
				`#2 invalid_time: timestamp 1s + 1000000000ns is out of range (1970 to 2262, nanos below 1e9)`,
				`#3 invalid_time: timestamp 1s + -1ns is out of range (1970 to 2262, nanos below 1e9)`,
				`#4 invalid_time: timestamp 9223372037s + 0ns is out of range (1970 to 2262, nanos below 1e9)`,
			}},
		{"invalid labels reject each entry, positions across streams", pbPush(
			pbStream{`{a="1"}`, []pbEntry{{sec: 1, line: "x"}}},
			pbStream{`{a=1}`, []pbEntry{{sec: 2, line: "y"}, {sec: 3, line: "z"}}},
			pbStream{`{b="1",b="2"}`, []pbEntry{{sec: 4, line: "w"}}},
			pbStream{`{c="1"}`, []pbEntry{{sec: -4, line: "v"}, {sec: 5, line: "u"}}}),
			[]string{
				`time=1000000000 msg="x" stream:a="1"`,
				`time=5000000000 msg="u" stream:c="1"`,
				`#2 invalid_labels: stream 2: invalid labels "{a=1}": expected a quoted label value, found '1' at byte 3`,
				`#3 invalid_labels: stream 2: invalid labels "{a=1}": expected a quoted label value, found '1' at byte 3`,
				`#4 invalid_labels: stream 3: invalid labels "{b=\"1\",b=\"2\"}": duplicate label name "b"`,
				`#5 invalid_time: timestamp -4s + 0ns is out of range (1970 to 2262, nanos below 1e9)`,
			}},
		{"labels after entries, last labels win", func() []byte {
			s := appendBytesField(nil, 2, entry("x"))
			s = appendStringField(s, 1, `{a="first"}`)
			s = appendBytesField(s, 2, entry("y"))
			s = appendStringField(s, 1, `{a="last"}`)
			return appendBytesField(nil, 1, s)
		}(), []string{
			`time=1795303594472000000 msg="x" stream:a="last"`,
			`time=1795303594472000000 msg="y" stream:a="last"`,
		}},
		{"unknown fields skipped at every level", func() []byte {
			unknown := func(b []byte) []byte {
				b = appendVarintField(b, 9, 7)
				b = protowire.AppendTag(b, 10, protowire.Fixed32Type)
				b = protowire.AppendFixed32(b, 1)
				b = protowire.AppendTag(b, 11, protowire.Fixed64Type)
				b = protowire.AppendFixed64(b, 1)
				b = appendStringField(b, 12, "junk")
				b = protowire.AppendTag(b, 13, protowire.StartGroupType)
				b = appendVarintField(b, 1, 1)
				return protowire.AppendTag(b, 13, protowire.EndGroupType)
			}
			ts := unknown(pbTimestamp(7, 8))
			pair := unknown(pbPair("k", "v"))
			e := unknown(appendBytesField(nil, 1, ts))
			e = appendStringField(e, 2, "line")
			e = appendBytesField(e, 3, pair)
			e = appendBytesField(e, 4, pbPair("parsed", "ignored")) // EntryAdapter.parsed
			s := unknown(appendStringField(nil, 1, `{a="b"}`))
			s = appendVarintField(s, 3, 12345) // StreamAdapter.hash
			s = appendBytesField(s, 2, e)
			push := unknown(appendStringField(nil, 2, "json")) // PushRequest.format
			return appendBytesField(push, 1, s)
		}(), []string{`time=7000000008 msg="line" stream:a="b" k="v"`}},
		{"repeated fields: last line wins, timestamps merge", func() []byte {
			e := appendStringField(nil, 2, "old")
			e = appendBytesField(e, 1, pbTimestamp(5, 0))
			e = appendBytesField(e, 1, pbTimestamp(0, 6))
			e = appendStringField(e, 2, "new")
			return appendBytesField(nil, 1, appendBytesField(appendStringField(nil, 1, `{a="b"}`), 2, e))
		}(), []string{`time=5000000006 msg="new" stream:a="b"`}},
		{"negative nanos as int32", func() []byte {
			ts := appendVarintField(appendVarintField(nil, 1, 1), 2, uint64(1)<<32|5) // high bits dropped: 5
			e := appendStringField(appendBytesField(nil, 1, ts), 2, "x")
			return appendBytesField(nil, 1, appendBytesField(appendStringField(nil, 1, `{a="b"}`), 2, e))
		}(), []string{`time=1000000005 msg="x" stream:a="b"`}},
		{"empty stream, empty entry, no labels", pbPush(pbStream{``, []pbEntry{{}}}, pbStream{`{a="b"}`, nil}),
			[]string{``}},
		{"empty request", nil, nil},
		{"invalid UTF-8 repaired", pbPush(pbStream{"{a=\"\xff\"}", []pbEntry{{sec: 1, line: "x\xffy", md: [][2]string{{"k\xfe", "v"}}}}}),
			[]string{`time=1000000000 msg="x�y" stream:a="�" k�="v"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, snappy(tc.msg), ctProto, "", testOptions())
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, render(res), tc.want)
			checkDiscards(t, res)
		})
	}
}

func TestDecodeProtoErrors(t *testing.T) {
	good := pbPush(pbStream{`{a="b"}`, []pbEntry{{sec: 1, line: "x"}}})
	stream2 := func(entry []byte) []byte {
		s := appendBytesField(appendStringField(nil, 1, `{a="b"}`), 2, entry)
		return appendBytesField(good, 1, s) // stream 1 is fine, stream 2 is not
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"not snappy", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, `decode push request: malformed body: a body with Content-Type "application/x-protobuf" is read as snappy-compressed protobuf, and it is not a snappy block (s2: corrupt input): compress the PushRequest with snappy's block format, or send Content-Type: application/json for JSON`},
		{"uncompressed protobuf", good, `decode push request: malformed body: a body with Content-Type "application/x-protobuf" is read as snappy-compressed protobuf, and it is not a snappy block (s2: corrupt input): compress the PushRequest with snappy's block format, or send Content-Type: application/json for JSON`},
		{"truncated snappy", snappy(good)[:len(snappy(good))-2], `decode push request: malformed body: a body with Content-Type "application/x-protobuf" is read as snappy-compressed protobuf, and it is not a snappy block (s2: corrupt input): compress the PushRequest with snappy's block format, or send Content-Type: application/json for JSON`},
		{"truncated message", snappy(good[:len(good)-1]), `decode push request: malformed body: protobuf PushRequest, top level: field 1: unexpected EOF: the body is truncated or not a Loki PushRequest`},
		{"streams as varint", snappy(appendVarintField(nil, 1, 3)), `decode push request: malformed body: protobuf PushRequest, top level: field 1: wrong wire type 0, want 2: the body is truncated or not a Loki PushRequest`},
		{"field number 0", snappy([]byte{0x02, 0x00}), `decode push request: malformed body: protobuf PushRequest, top level: invalid field number: the body is truncated or not a Loki PushRequest`},
		{"bad entry in stream 2", snappy(stream2([]byte{0x12, 0x05, 'x'})), `decode push request: malformed body: protobuf PushRequest, stream 2, entry 1: field 2: unexpected EOF: the body is truncated or not a Loki PushRequest`},
		{"line as varint", snappy(stream2(appendVarintField(nil, 2, 1))), `decode push request: malformed body: protobuf PushRequest, stream 2, entry 1: field 2: wrong wire type 0, want 2: the body is truncated or not a Loki PushRequest`},
		{"seconds as bytes", snappy(stream2(appendBytesField(nil, 1, appendStringField(nil, 1, "x")))), `decode push request: malformed body: protobuf PushRequest, stream 2, entry 1: timestamp: field 1: wrong wire type 2, want 0: the body is truncated or not a Loki PushRequest`},
		{"bad metadata", snappy(stream2(appendBytesField(nil, 3, []byte{0x0a}))), `decode push request: malformed body: protobuf PushRequest, stream 2, entry 1: structured metadata: field 1: unexpected EOF: the body is truncated or not a Loki PushRequest`},
		{"labels as fixed32", snappy(appendBytesField(nil, 1, protowire.AppendFixed32(protowire.AppendTag(nil, 1, protowire.Fixed32Type), 1))), `decode push request: malformed body: protobuf PushRequest, stream 1: field 1: wrong wire type 5, want 2: the body is truncated or not a Loki PushRequest`},
		{"unmatched end group", snappy(protowire.AppendTag(nil, 5, protowire.EndGroupType)), `decode push request: malformed body: protobuf PushRequest, top level: field 5: mismatching end group marker: the body is truncated or not a Loki PushRequest`},
		{"unterminated group", snappy(protowire.AppendTag(nil, 5, protowire.StartGroupType)), `decode push request: malformed body: protobuf PushRequest, top level: field 5: unexpected EOF: the body is truncated or not a Loki PushRequest`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, tc.body, ctProto, "", testOptions())
			if err == nil {
				t.Fatalf("no error; result %v", render(res))
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n\t%s\nwant:\n\t%s", err, tc.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error does not wrap ErrMalformed")
			}
			if len(res.Records)+len(res.Rejections)+len(res.Discards) != 0 {
				t.Errorf("res changed on error: %v", render(res))
			}
		})
	}
}

func TestDecodeProtoDeepGroups(t *testing.T) {
	var b []byte
	const depth = 20000 // beyond protowire's recursion limit
	for range depth {
		b = protowire.AppendTag(b, 5, protowire.StartGroupType)
	}
	for range depth {
		b = protowire.AppendTag(b, 5, protowire.EndGroupType)
	}
	_, err := decode(t, snappy(b), ctProto, "", testOptions())
	// protowire reports its recursion limit as a generic parse error.
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "field 5: parse error") {
		t.Fatalf("error %v, want a parse error for field 5", err)
	}
}

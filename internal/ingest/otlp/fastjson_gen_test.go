package otlp

import (
	"strconv"
	"strings"
)

// genJSON turns fuzz input into an OTLP/JSON request, mostly well formed,
// so that the differential check reaches the decoders' mapping and not
// only their syntax errors. The input is read as a stream of choices.
type genJSON struct {
	in []byte
	b  strings.Builder
}

func genBody(in []byte) []byte {
	g := &genJSON{in: in}
	g.request()
	return []byte(g.b.String())
}

func (g *genJSON) next() int {
	if len(g.in) == 0 {
		return 0
	}
	c := g.in[0]
	g.in = g.in[1:]
	return int(c)
}

func (g *genJSON) pick(opts ...string) string { return opts[g.next()%len(opts)] }

func (g *genJSON) w(s ...string) {
	for _, x := range s {
		g.b.WriteString(x)
	}
}

var genStrings = []string{`""`, `"_msg"`, `"msg"`, `"message"`, `"log"`, `"_time"`, `"_stream"`, `"service.name"`,
	`"a.b"`, `"a"`, `"b"`, `"s"`, `"결제"`, `"a\"b"`, `"x\\ny"`, `"\u00e9"`, `"\ud800"`, "\"\xff\"", "\"\x01\"", `"\/"`, `"x\ty"`,
	`"host.name"`, `"INFO"`, `"12"`, `"longer value with spaces and = signs"`}

func (g *genJSON) str() string { return genStrings[g.next()%len(genStrings)] }

func (g *genJSON) list(n int, item func()) {
	g.w("[")
	for i := range g.next() % (n + 1) {
		if i > 0 {
			g.w(",")
		}
		item()
	}
	g.w("]")
}

func (g *genJSON) name(camel, snake string) string {
	if g.next()%8 == 0 {
		return `"` + snake + `"`
	}
	return `"` + camel + `"`
}

func (g *genJSON) request() {
	g.w("{", g.name("resourceLogs", "resource_logs"), ":")
	g.list(3, g.resourceLogs)
	if g.next()%16 == 0 {
		g.w(`,"extra":{}`)
	}
	g.w("}")
}

func (g *genJSON) resourceLogs() {
	g.w(`{"resource":{"attributes":`)
	g.list(4, g.keyValue)
	if g.next()%4 == 0 {
		g.w(`,"droppedAttributesCount":`, g.pick("0", `"1"`, "-1", "4294967296", "1.5"))
	}
	g.w("},", g.name("scopeLogs", "scope_logs"), ":")
	g.list(3, g.scopeLogs)
	if g.next()%8 == 0 {
		g.w(`,"schemaUrl":`, g.str())
	}
	g.w("}")
}

func (g *genJSON) scopeLogs() {
	g.w(`{"scope":{"name":`, g.str(), `,"version":`, g.str(), `,"attributes":`)
	g.list(2, g.keyValue)
	g.w("},", g.name("logRecords", "log_records"), ":")
	g.list(4, g.logRecord)
	g.w("}")
}

func (g *genJSON) logRecord() {
	fields := []func() string{
		func() string { return g.name("timeUnixNano", "time_unix_nano") + ":" + g.uint64() },
		func() string { return g.name("observedTimeUnixNano", "observed_time_unix_nano") + ":" + g.uint64() },
		func() string {
			return g.name("severityNumber", "severity_number") + ":" +
				g.pick("9", "0", "17", "24", "25", "-1", `"SEVERITY_NUMBER_WARN"`, "2147483648", "1.0", `"3"`)
		},
		func() string { return g.name("severityText", "severity_text") + ":" + g.str() },
		func() string { return `"body":` + g.anyValue(0) },
		func() string {
			var sb strings.Builder
			old := g.b
			g.b = sb
			g.list(4, g.keyValue)
			s := g.b.String()
			g.b = old
			return `"attributes":` + s
		},
		func() string { return `"flags":` + g.pick("0", "1", `"2"`, "4294967295", "4294967296", "-1") },
		func() string {
			return g.name("traceId", "trace_id") + ":" +
				g.pick(`"5b8efff798038103d269b633813fc60c"`, `""`, `"00000000000000000000000000000000"`, `"5B8EFFF798038103D269B633813FC60C"`, `"abc"`, `"W47/95gDgQPSabYzgT/GDA=="`)
		},
		func() string {
			return g.name("spanId", "span_id") + ":" + g.pick(`"eee19b7ec3c1b174"`, `""`, `"0000000000000000"`, `"zz"`)
		},
		func() string { return g.name("eventName", "event_name") + ":" + g.str() },
		func() string { return `"droppedAttributesCount":` + g.pick("0", "3") },
	}
	g.w("{")
	n := g.next() % 8
	for i := range n {
		if i > 0 {
			g.w(",")
		}
		g.w(fields[g.next()%len(fields)]())
	}
	g.w("}")
}

func (g *genJSON) uint64() string {
	switch g.next() % 8 {
	case 0:
		return "0"
	case 1:
		return `"18446744073709551615"`
	case 2:
		return "9223372036854775808"
	case 3:
		return `"-1"`
	case 4:
		return "1e18"
	}
	return strconv.Quote(strconv.FormatUint(1795303611541000000+uint64(g.next()), 10))
}

func (g *genJSON) keyValue() {
	g.w(`{"key":`, g.str(), `,"value":`, g.anyValue(1), "}")
}

func (g *genJSON) anyValue(depth int) string {
	var s string
	switch k := g.next() % 10; {
	case k == 0:
		return "{}"
	case k == 1:
		s = g.name("stringValue", "string_value") + ":" + g.str()
	case k == 2:
		s = g.name("boolValue", "bool_value") + ":" + g.pick("true", "false", `"true"`)
	case k == 3:
		s = g.name("intValue", "int_value") + ":" +
			g.pick("1", "-7", `"42"`, `"-9223372036854775808"`, "9223372036854775807", "9223372036854775808", "1.5", `"+3"`, "0", "-0")
	case k == 4:
		s = g.name("doubleValue", "double_value") + ":" +
			g.pick("1.5", "0.1", "-0", "1e21", "1e-7", `"NaN"`, `"Infinity"`, `"-Infinity"`, "1e400", "123456789012345678901", `"0.25"`, "5", "2.2250738585072014e-308")
	case k == 5:
		s = g.name("bytesValue", "bytes_value") + ":" + g.pick(`"AAH+/w=="`, `""`, `"/w=="`, `"!!"`, `"AAH+\/w=="`)
	case k == 6 && depth < 6:
		var parts []string
		for range g.next() % 4 {
			parts = append(parts, g.anyValue(depth+1))
		}
		s = g.name("arrayValue", "array_value") + `:{"values":[` + strings.Join(parts, ",") + "]}"
	case k >= 7 && depth < 6:
		var parts []string
		for range g.next() % 4 {
			parts = append(parts, `{"key":`+g.str()+`,"value":`+g.anyValue(depth+1)+"}")
		}
		s = g.name("kvlistValue", "kvlist_value") + `:{"values":[` + strings.Join(parts, ",") + "]}"
	default:
		s = `"stringValue":"x"`
	}
	return "{" + s + "}"
}

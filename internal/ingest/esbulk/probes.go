package esbulk

import (
	"net"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// The product check header every answer carries.
const (
	ProductHeader = "X-Elastic-Product"
	ProductName   = "Elasticsearch"
)

// Identity reported by the probes.
const (
	// DefaultVersion is the Elasticsearch version VersionInfo reports by
	// default: the last 8.x, so that Beats 8, which refuse an older server
	// than themselves, and 8.x clients accept it.
	DefaultVersion = "8.19.0"
	ClusterName    = "logbucket"
	ClusterUUID    = "bG9nYnVja2V0LWNsdXN0ZXI"
	NodeName       = "logbucket"
	nodeID         = "bG9nYnVja2V0LW5vZGUtMA"
	// luceneVersion is cosmetic: no known client reads it.
	luceneVersion = "9.12.2"
	buildHash     = "logbucket"
	buildDate     = "2025-07-01T00:00:00.000000000Z"
)

// VersionInfo returns the GET / document of an Elasticsearch node of
// version number ("" means DefaultVersion).
func VersionInfo(number string) []byte {
	if number == "" {
		number = DefaultVersion
	}
	b := []byte(`{"name":"` + NodeName + `","cluster_name":"` + ClusterName + `","cluster_uuid":"` + ClusterUUID + `","version":{"number":`)
	b = jsonstr.Append(b, number)
	b = append(b, `,"build_flavor":"default","build_type":"tar","build_hash":"`+buildHash+`","build_date":"`+buildDate+
		`","build_snapshot":false,"lucene_version":"`+luceneVersion+
		`","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`...)
	return b
}

// License returns the GET /_license document: a basic license, active,
// that never expires.
func License() []byte {
	return []byte(`{"license":{"status":"active","uid":"` + ClusterUUID + `","type":"basic","issue_date":"2025-07-01T00:00:00.000Z",` +
		`"issue_date_in_millis":1751328000000,"max_nodes":1000,"max_resource_units":null,"issued_to":"` + ClusterName +
		`","issuer":"elasticsearch","start_date_in_millis":-1}}`)
}

// XPack returns the GET /_xpack document: a basic license, active, and
// index lifecycle management unavailable, so that clients in "auto" ILM
// mode (Beats 7, Logstash) write to the index they name instead of
// managing rollover aliases.
func XPack() []byte {
	return []byte(`{"build":{"hash":"` + buildHash + `","date":"` + buildDate + `"},` +
		`"license":{"uid":"` + ClusterUUID + `","type":"basic","mode":"basic","status":"active"},` +
		`"features":{"ilm":{"available":false,"enabled":false},"security":{"available":false,"enabled":false},` +
		`"monitoring":{"available":false,"enabled":false}},"tagline":"You know, for X"}`)
}

// Acknowledged returns {"acknowledged":true}, the answer to PUT
// /_index_template/{name}, /_template/{name}, /_component_template/{name}
// and /_ilm/policy/{name}; the handler may ignore their bodies.
func Acknowledged() []byte {
	return []byte(`{"acknowledged":true}`)
}

// ClusterHealth returns the GET /_cluster/health document of a green
// single-node cluster.
func ClusterHealth() []byte {
	return []byte(`{"cluster_name":"` + ClusterName + `","status":"green","timed_out":false,"number_of_nodes":1,` +
		`"number_of_data_nodes":1,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,` +
		`"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,` +
		`"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`)
}

// NodesHTTP returns the GET /_nodes/http document of one node reachable
// at publishAddress ("host:port", what clients that sniff will connect
// to: the address the handler is served on, as clients see it).
func NodesHTTP(publishAddress string) []byte {
	host := publishAddress
	if h, _, err := net.SplitHostPort(publishAddress); err == nil {
		host = h
	}
	b := []byte(`{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"` + ClusterName +
		`","nodes":{"` + nodeID + `":{"name":"` + NodeName + `","transport_address":`)
	b = jsonstr.Append(b, publishAddress)
	b = append(b, `,"host":`...)
	b = jsonstr.Append(b, host)
	b = append(b, `,"ip":`...)
	b = jsonstr.Append(b, host)
	b = append(b, `,"version":"`+DefaultVersion+`","build_flavor":"default","build_type":"tar","build_hash":"`+buildHash+
		`","roles":["data","ingest","master"],"http":{"bound_address":[`...)
	b = jsonstr.Append(b, publishAddress)
	b = append(b, `],"publish_address":`...)
	b = jsonstr.Append(b, publishAddress)
	return append(b, `,"max_content_length_in_bytes":104857600}}}}`...)
}

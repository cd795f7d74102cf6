package esbulk

import (
	"encoding/json"
	"testing"
)

func unmarshal(t *testing.T, name string, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v in %s", name, err, b)
	}
}

func TestVersionInfo(t *testing.T) {
	var v struct{ Version map[string]any }
	for _, tc := range []struct{ arg, want string }{{"", DefaultVersion}, {"8.17.0", "8.17.0"}, {`9"x`, `9"x`}} {
		unmarshal(t, "VersionInfo", VersionInfo(tc.arg), &v)
		if v.Version["number"] != tc.want {
			t.Errorf("VersionInfo(%q): number %v", tc.arg, v.Version["number"])
		}
	}
	var raw map[string]any
	unmarshal(t, "VersionInfo", VersionInfo(""), &raw)
	if raw["cluster_name"] != ClusterName || raw["cluster_uuid"] != ClusterUUID || raw["tagline"] != "You Know, for Search" {
		t.Errorf("identity: %v", raw)
	}
	for key, want := range map[string]any{
		"build_flavor":                        "default",
		"lucene_version":                      luceneVersion,
		"minimum_wire_compatibility_version":  "7.17.0",
		"minimum_index_compatibility_version": "7.0.0",
		"build_snapshot":                      false,
	} {
		if got := raw["version"].(map[string]any)[key]; got != want {
			t.Errorf("version.%s = %v, want %v", key, got, want)
		}
	}
}

func TestProbeDocuments(t *testing.T) {
	var lic struct{ License struct{ Type, Status string } }
	unmarshal(t, "License", License(), &lic)
	if lic.License.Type != "basic" || lic.License.Status != "active" {
		t.Errorf("license %+v", lic)
	}

	var x struct {
		License  struct{ Type, Mode, Status string }
		Features map[string]struct{ Available, Enabled bool }
	}
	unmarshal(t, "XPack", XPack(), &x)
	if x.License.Status != "active" || x.License.Type != "basic" {
		t.Errorf("xpack license %+v", x.License)
	}
	if ilm, ok := x.Features["ilm"]; !ok || ilm.Available || ilm.Enabled {
		t.Errorf("xpack ilm %+v (present %v), want unavailable", ilm, ok)
	}

	var ack struct{ Acknowledged bool }
	unmarshal(t, "Acknowledged", Acknowledged(), &ack)
	if !ack.Acknowledged {
		t.Error("not acknowledged")
	}

	var h struct {
		ClusterName string `json:"cluster_name"`
		Status      string
		Nodes       int `json:"number_of_nodes"`
	}
	unmarshal(t, "ClusterHealth", ClusterHealth(), &h)
	if h.Status != "green" || h.ClusterName != ClusterName || h.Nodes != 1 {
		t.Errorf("health %+v", h)
	}

	var n struct {
		Nodes map[string]struct {
			Host, IP, Version string
			HTTP              struct {
				PublishAddress string   `json:"publish_address"`
				BoundAddress   []string `json:"bound_address"`
			}
		}
	}
	unmarshal(t, "NodesHTTP", NodesHTTP("10.1.2.3:9200"), &n)
	if len(n.Nodes) != 1 {
		t.Fatalf("nodes %+v", n)
	}
	for _, node := range n.Nodes {
		if node.HTTP.PublishAddress != "10.1.2.3:9200" || node.Host != "10.1.2.3" || node.IP != "10.1.2.3" ||
			len(node.HTTP.BoundAddress) != 1 || node.Version != DefaultVersion {
			t.Errorf("node %+v", node)
		}
	}
	unmarshal(t, "NodesHTTP", NodesHTTP(`odd"address`), &n)
}

// TestProbesFresh checks that each call returns its own bytes.
func TestProbesFresh(t *testing.T) {
	for name, f := range map[string]func() []byte{
		"VersionInfo": func() []byte { return VersionInfo("") }, "License": License, "XPack": XPack,
		"Acknowledged": Acknowledged, "ClusterHealth": ClusterHealth,
		"NodesHTTP": func() []byte { return NodesHTTP("a:1") },
	} {
		a := f()
		a[0] = 'X'
		if b := f(); b[0] != '{' {
			t.Errorf("%s: returned bytes are shared", name)
		}
	}
}

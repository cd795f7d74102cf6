package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load builds the configuration of `logbucket server` from args, the
// command-line arguments after "server" (os.Args[2:]): the defaults, then
// the YAML file named by --config, then the flags, which win over the
// file. The result is validated.
//
// For -h/--help Load writes the usage text to out and returns
// flag.ErrHelp. Any other problem (an unknown flag, a positional argument,
// an unreadable or invalid file, an invalid setting) is returned as an
// error meant for the user; Load writes nothing to out in that case.
func Load(args []string, out io.Writer) (*Config, error) {
	// First pass: learn --config and catch bad flags before reading files.
	var path string
	scratch := Default()
	fs, opts := newFlagSet(&scratch, &path)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(out, opts)
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("%w (see logbucket server --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: logbucket server takes only options, "+
			"such as --config FILE (see logbucket server --help)", fs.Arg(0))
	}

	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config %s: %w", path, err)
		}
		if err := decodeYAML(data, &cfg); err != nil {
			return nil, wrapList("parse config "+path, err)
		}
	}

	// Second pass: the flags again, now over the file's settings.
	fs, _ = newFlagSet(&cfg, new(string))
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w (see logbucket server --help)", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, wrapList("invalid configuration", err)
	}
	return &cfg, nil
}

// wrapList wraps err with context; when err joins several errors, each
// starts its own line.
func wrapList(context string, err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 1 {
		return fmt.Errorf("%s (%d problems):\n%w", context, len(j.Unwrap()), err)
	}
	return fmt.Errorf("%s: %w", context, err)
}

// decodeYAML decodes one YAML document from data over cfg. Keys absent
// from the document keep their value in cfg. Unknown keys are an error
// naming each key, its line and the keys allowed there. An empty document
// changes nothing.
func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return fmt.Errorf("line %d: a second YAML document; the file must hold exactly one", next.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of settings such as \"listen: 127.0.0.1:9700\"", root.Line)
	}
	var p problems
	rootType := reflect.TypeOf(Config{})
	checkKeys(&p, root, rootType, rootType, "", 0)
	if len(p) > 0 {
		return errors.Join(p...)
	}
	// The decoder's own strict mode backs up checkKeys.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(cfg)
}

// checkKeys reports every mapping key in n that has no field in t, the
// type n decodes into, at the YAML path path. rootType is Config's type,
// used to suggest where a misplaced key belongs.
func checkKeys(p *problems, n *yaml.Node, t, rootType reflect.Type, path string, depth int) {
	if depth > 64 {
		return // deeper than any setting; the decoder reports what is wrong
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type error, which the decoder reports with its line
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				for _, m := range mergeSources(v) {
					checkKeys(p, m, t, rootType, path, depth+1)
				}
				continue
			}
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				p.add(unknownKey(k, t, rootType, path))
				continue
			}
			checkKeys(p, v, f.Type, rootType, joinPath(path, k.Value), depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkKeys(p, n.Content[i+1], t.Elem(), rootType, joinPath(path, n.Content[i].Value), depth+1)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkKeys(p, c, t.Elem(), rootType, path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	}
}

func (p *problems) add(err error) { *p = append(*p, err) }

// mergeSources returns the mappings merged by a "<<" key: one mapping or
// alias, or a sequence of them.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlKey returns the YAML key of struct field f, or "" if it has none.
func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" || !f.IsExported() {
		return ""
	}
	if key == "" {
		key = strings.ToLower(f.Name)
	}
	return key
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func unknownKey(k *yaml.Node, t, rootType reflect.Type, path string) error {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		if key := yamlKey(t.Field(i)); key != "" {
			known = append(known, key)
		}
	}
	msg := fmt.Sprintf("line %d: unknown key %q %s", k.Line, k.Value, where)
	if s := suggest(k.Value, rootType, path); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return fmt.Errorf("%s (known keys: %s)", msg, strings.Join(known, ", "))
}

var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// suggest returns the full YAML paths of settings named like key (ignoring
// case and '-' versus '_'), e.g. a key written in the wrong section.
// Paths under a map (buckets) are written with the map key of path, paths
// under a list (syslog.listeners) with the index N.
func suggest(key string, rootType reflect.Type, path string) []string {
	want := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				k := yamlKey(f)
				if k == "" {
					continue
				}
				if k == want {
					out = append(out, joinPath(prefix, k))
				}
				walk(f.Type, joinPath(prefix, k))
			}
		case reflect.Map:
			name := "NAME"
			if rest, ok := strings.CutPrefix(path, prefix+"."); ok {
				name, _, _ = strings.Cut(rest, ".")
			}
			walk(t.Elem(), joinPath(prefix, name))
		case reflect.Slice:
			if prefix != "" {
				walk(t.Elem(), prefix+"[N]")
			}
		}
	}
	walk(rootType, "")
	if slices.Contains(out, joinPath(listIndex.ReplaceAllString(path, "[N]"), want)) {
		return []string{want} // right section, misspelt
	}
	return slices.Compact(out)
}

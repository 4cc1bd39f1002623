// Command go-oracle renders the template corpus with the real Go text/template
// engine and the Sprig function library, producing the golden file that the
// TypeScript engine is tested against.
//
// Input (stdin): JSONL of {"name", "template", "data", "int_paths"?, "env"?}.
// Output (stdout): JSONL of {"name", "out"} or {"name", "error", "error_class"}.
//
// Data is decoded with encoding/json into interface{} (numbers become float64),
// then every dotted path in int_paths is converted to a Go int, as the gateway
// does for config variables such as max_tokens.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig"
)

type corpusCase struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Data     json.RawMessage   `json:"data"`
	IntPaths []string          `json:"int_paths"`
	Env      map[string]string `json:"env"`
}

type golden struct {
	Name       string  `json:"name"`
	Out        *string `json:"out,omitempty"`
	Error      string  `json:"error,omitempty"`
	ErrorClass string  `json:"error_class,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	line := 0
	for in.Scan() {
		line++
		text := strings.TrimSpace(in.Text())
		if text == "" {
			continue
		}
		var c corpusCase
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			fmt.Fprintf(os.Stderr, "corpus line %d: %v\n", line, err)
			os.Exit(2)
		}
		if err := enc.Encode(render(c)); err != nil {
			fmt.Fprintf(os.Stderr, "write: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "read: %v\n", err)
		os.Exit(2)
	}
}

func render(c corpusCase) golden {
	var data interface{}
	if len(c.Data) > 0 {
		if err := json.Unmarshal(c.Data, &data); err != nil {
			fmt.Fprintf(os.Stderr, "case %s: bad data: %v\n", c.Name, err)
			os.Exit(2)
		}
	}
	for _, path := range c.IntPaths {
		data = convertToInt(data, strings.Split(path, "."))
	}
	funcs := sprig.TxtFuncMap()
	funcs["env"] = func(key string) string { return c.Env[key] }
	funcs["expandenv"] = func(s string) string { return os.Expand(s, func(k string) string { return c.Env[k] }) }

	tmpl, err := template.New("tpl").Funcs(funcs).Parse(c.Template)
	if err != nil {
		return golden{Name: c.Name, Error: err.Error(), ErrorClass: "parse"}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return golden{Name: c.Name, Error: err.Error(), ErrorClass: "exec"}
	}
	s := buf.String()
	return golden{Name: c.Name, Out: &s}
}

// convertToInt replaces the float64 found at path with int(value); missing paths are left alone.
func convertToInt(node interface{}, path []string) interface{} {
	if len(path) == 0 {
		if f, ok := node.(float64); ok {
			return int(f)
		}
		return node
	}
	switch n := node.(type) {
	case map[string]interface{}:
		if child, ok := n[path[0]]; ok {
			n[path[0]] = convertToInt(child, path[1:])
		}
	case []interface{}:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(n) {
			n[i] = convertToInt(n[i], path[1:])
		}
	}
	return node
}

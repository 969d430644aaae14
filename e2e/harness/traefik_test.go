package harness

import (
	"reflect"
	"strings"
	"testing"
)

func TestStaticConfigReplacesSections(t *testing.T) {
	tr := &Traefik{Dir: t.TempDir(), HTTPSAddr: "127.0.0.1:1", ProbeAddr: "127.0.0.1:2"}
	extra := "experimental:\n  localPlugins:\n    auth:\n      moduleName: " + PluginModule + "\n" +
		"Log:\n  level: INFO\n"

	static, err := tr.staticConfig([]byte(extra))
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]any{"localPlugins": map[string]any{"auth": map[string]any{"moduleName": PluginModule}}}
	if !reflect.DeepEqual(static["experimental"], want) {
		t.Errorf("experimental = %v, want %v", static["experimental"], want)
	}
	if _, ok := static["log"]; ok {
		t.Error("section log kept next to Log")
	}
	if _, ok := static["entryPoints"]; !ok {
		t.Error("entryPoints missing")
	}
}

func TestStaticConfigRejects(t *testing.T) {
	cases := []struct {
		name  string
		extra string
		error string
	}{
		{"entry points", "entryPoints:\n  web:\n    address: :80\n", "sets entryPoints"},
		{"providers", "providers:\n  docker: {}\n", "sets providers"},
		{"catalog plugin", "experimental:\n  plugins:\n    auth:\n      moduleName: " + PluginModule +
			"\n      version: v0.1.0\n", "no experimental.localPlugins"},
		{"other module", "experimental:\n  localPlugins:\n    auth:\n      moduleName: example.com/other\n",
			"has moduleName example.com/other"},
		{"invalid YAML", "experimental: [", "parse static configuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Traefik{Dir: t.TempDir()}
			_, err := tr.staticConfig([]byte(tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error = %v, want one containing %q", err, tc.error)
			}
		})
	}
}

package harness

import (
	"strings"
	"testing"
)

func TestLabelsToDynamicDefaults(t *testing.T) {
	conf, err := LabelsToDynamic([]Container{
		{Name: "ignored", URL: "http://127.0.0.1:1", Labels: map[string]string{
			"traefik.http.routers.ignored.rule": "Host(`ignored.example.test`)",
		}},
		{Name: "portal", URL: "http://127.0.0.1:2", Labels: map[string]string{
			"traefik.enable":                       "true",
			"traefik.http.routers.web.rule":        "Host(`portal.example.test`)",
			"traefik.http.routers.web.tls.options": "apiinternal@file",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, ok := conf.HTTP.Routers["ignored"]; ok {
		t.Error("router of a container without traefik.enable=true was kept")
	}
	router := conf.HTTP.Routers["web"]
	if router == nil {
		t.Fatal("router web missing")
	}
	if router.Service != "portal" {
		t.Errorf("router service = %q, want the container's service portal", router.Service)
	}
	if router.TLS == nil || router.TLS.Options != "apiinternal@file" {
		t.Errorf("router TLS = %+v, want options apiinternal@file", router.TLS)
	}
	service := conf.HTTP.Services["portal"]
	if service == nil || len(service.LoadBalancer.Servers) != 1 {
		t.Fatalf("service portal = %+v, want one server", service)
	}
	if got := service.LoadBalancer.Servers[0].URL; got != "http://127.0.0.1:2" {
		t.Errorf("server URL = %q, want the container URL", got)
	}
}

func TestLabelsToDynamicPluginConfig(t *testing.T) {
	const prefix = "traefik.http.middlewares.auth.plugin.internalauth."
	conf, err := LabelsToDynamic([]Container{{Name: "api", URL: "http://127.0.0.1:1", Labels: map[string]string{
		"traefik.enable":              "true",
		prefix + "keys[0].id":         "automation",
		prefix + "pins":               "AA:BB,CC:DD",
		prefix + "maxBodyBytes":       "65536",
		"traefik.http.routers.r.rule": "Host(`a.example.test`)",
	}}})
	if err != nil {
		t.Fatal(err)
	}

	data, err := MarshalDynamic(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id": "automation"`, `"pins": "AA:BB,CC:DD"`, `"maxBodyBytes": "65536"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("encoded configuration lacks %s:\n%s", want, data)
		}
	}
}

func TestLabelsToDynamicConflict(t *testing.T) {
	containers := []Container{
		{Name: "a", URL: "http://127.0.0.1:1", Labels: map[string]string{
			"traefik.enable": "true", "traefik.http.routers.r.rule": "Host(`a.example.test`)",
		}},
		{Name: "b", URL: "http://127.0.0.1:2", Labels: map[string]string{
			"traefik.enable": "true", "traefik.http.routers.r.rule": "Host(`b.example.test`)",
		}},
	}
	if _, err := LabelsToDynamic(containers); err == nil {
		t.Error("two containers defining router r differently returned no error")
	}
}

func TestLabelsToDynamicMissingRule(t *testing.T) {
	_, err := LabelsToDynamic([]Container{{Name: "a", URL: "http://127.0.0.1:1", Labels: map[string]string{
		"traefik.enable": "true", "traefik.http.routers.r.entryPoints": "websecure",
	}}})
	if err == nil {
		t.Error("router without a rule returned no error")
	}
}

func TestLabelsFromText(t *testing.T) {
	labels, err := LabelsFromText("# comment\n\ntraefik.enable=true\ntraefik.http.routers.r.rule=Path(`/a=b`)\n")
	if err != nil {
		t.Fatal(err)
	}
	if labels["traefik.enable"] != "true" {
		t.Errorf("traefik.enable = %q", labels["traefik.enable"])
	}
	if got := labels["traefik.http.routers.r.rule"]; got != "Path(`/a=b`)" {
		t.Errorf("rule = %q, want the text after the first =", got)
	}

	if _, err := LabelsFromText("no equals sign"); err == nil {
		t.Error("line without = returned no error")
	}
}

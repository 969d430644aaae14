package harness

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInterpolate(t *testing.T) {
	vars := map[string]string{"HOST": "a.example.test", "EMPTY": ""}
	cases := []struct {
		text string
		want string
	}{
		{"Host(`${HOST}`)", "Host(`a.example.test`)"},
		{"${MISSING:-fallback}", "fallback"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${EMPTY-fallback}", ""},
		{"${HOST:?set HOST}", "a.example.test"},
		{"cost $$5", "cost $5"},
		{"no variables", "no variables"},
	}
	for _, tc := range cases {
		got, err := Interpolate(tc.text, vars)
		if err != nil {
			t.Errorf("Interpolate(%q): %v", tc.text, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Interpolate(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestInterpolateUnsetVariable(t *testing.T) {
	for _, text := range []string{"${MISSING}", "${EMPTY:?must be set}"} {
		if _, err := Interpolate(text, map[string]string{"EMPTY": ""}); err == nil {
			t.Errorf("Interpolate(%q) returned no error", text)
		}
	}
}

func TestLoadComposeLabelSpellings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "compose.yaml")
	content := `services:
  # ${NOT_A_VARIABLE} in a comment is ignored
  listed:
    labels:
      - traefik.enable=true
      - traefik.http.routers.r.rule=Host(` + "`${HOST}`" + `)
  mapped:
    labels:
      traefik.enable: "true"
      traefik.http.routers.s.rule: Path(` + "`/x=y`" + `)
`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	compose, err := LoadCompose(file, map[string]string{"HOST": "h.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := compose.Services["listed"].Labels["traefik.http.routers.r.rule"]; got != "Host(`h.example.test`)" {
		t.Errorf("listed rule = %q", got)
	}
	if got := compose.Services["mapped"].Labels["traefik.http.routers.s.rule"]; got != "Path(`/x=y`)" {
		t.Errorf("mapped rule = %q", got)
	}
}

func TestMountsRewrite(t *testing.T) {
	compose := &Compose{
		Services: map[string]ComposeService{"traefik": {
			Volumes: []string{
				"./traefik/dynamic:/etc/traefik/dynamic:ro",
				"./certs:/etc/traefik/certs:ro",
				"/var/run/docker.sock:/var/run/docker.sock:ro",
			},
			Secrets: []string{"hmac"},
		}},
		Secrets: map[string]ComposeSecret{"hmac": {File: "./secrets/hmac"}},
	}
	mounts, err := compose.ServiceMounts("traefik", "/project")
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string]string{
		"certFile: /etc/traefik/certs/a.crt": "certFile: /project/certs/a.crt",
		"/run/secrets/hmac":                  "/project/secrets/hmac",
		"/etc/traefik/dynamic":               "/project/traefik/dynamic",
		"/etc/traefik/other":                 "/etc/traefik/other",
		"/var/run/docker.sock":               "/var/run/docker.sock",
		"PathPrefix(`/api/internal`)":        "PathPrefix(`/api/internal`)",
	}
	for in, want := range cases {
		if got := mounts.Rewrite(in); got != want {
			t.Errorf("Rewrite(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceMountsMissingSecret(t *testing.T) {
	compose := &Compose{Services: map[string]ComposeService{"traefik": {Secrets: []string{"absent"}}}}
	if _, err := compose.ServiceMounts("traefik", "/project"); err == nil {
		t.Error("ServiceMounts returned no error for a secret without a file")
	}
}

func TestFlagIgnoresCase(t *testing.T) {
	compose := &Compose{Services: map[string]ComposeService{"traefik": {
		Command: []string{"--experimental.localplugins.internalauth.modulename=m"},
	}}}
	got, ok := compose.Flag("traefik", "experimental.localPlugins.internalauth.moduleName")
	if !ok || got != "m" {
		t.Errorf("Flag = %q, %v, want m, true", got, ok)
	}
}

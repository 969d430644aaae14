package main

import (
	"strings"
	"testing"
)

func FuzzParseEnvFile(f *testing.F) {
	f.Add("API_INTERNAL_URL=apiinternal.example.com\n# comment\nexport PORTAL_URL='portal'\n")
	f.Add(`API_INTERNAL_HMAC_KEY_ID="a\"b\\c" # note`)
	f.Add("API_INTERNAL_RESTRICT_IP=\"unclosed\n=\n1A=b")

	f.Fuzz(func(t *testing.T, text string) {
		vars, findings := parseEnvFile("fuzz.env", strings.NewReader(text))

		for name := range vars {
			if !isKnownVariable(name) {
				t.Fatalf("unknown variable %q kept", name)
			}
		}

		for _, finding := range findings {
			if !strings.HasPrefix(finding.subject, "fuzz.env") {
				t.Fatalf("finding %q does not name the file", finding)
			}
		}
	})
}

func FuzzValidateVariables(f *testing.F) {
	f.Add("apiinternal.example.com", "portal.example.com", "10.0.0.0/8,::ffff:0:0/96", "AB:CD", "internal@file")
	f.Add("https://x:1/y", "*.example.com", "1.2.3.4,,fe80::1%eth0", "sha256//", "a@b@c")

	f.Fuzz(func(t *testing.T, internal, portal, ranges, pins, options string) {
		vars := map[string]string{
			varEnabled: "true", varURL: internal, varPortalURL: portal, varAPIHost: "api.example.com",
			varRestrictIP: ranges, varClientPins: pins, varPublicTLSOptions: options,
		}

		for _, role := range []string{roleInfraManager, roleAPIManager} {
			s, findings := validateVariables(vars, role)

			if errors, _ := countFindings(findings, false); errors > 0 {
				continue
			}

			// Valid settings must render labels that stay one KEY=VALUE a line.
			labels := buildLabels(s, renderOptions{entryPoint: "websecure", service: "portal",
				hmacSecretFile: "/run/secrets/api_internal_hmac"})
			for _, l := range labels {
				if strings.ContainsAny(l.key+l.value, "\n\r") || l.value != strings.TrimSpace(l.value) {
					t.Fatalf("label %s=%q breaks the KEY=VALUE format", l.key, l.value)
				}
			}
		}
	})
}

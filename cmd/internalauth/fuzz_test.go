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

func FuzzParseCertificates(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})

	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := parseCertificates("fuzz.crt", data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no certificate and no error")
		}

		chain, err := parseCertificateChain(data)
		if err == nil {
			for i, cert := range chain {
				if cert == nil {
					t.Fatalf("chain entry %d is nil without an error", i)
				}
			}
		}
	})
}

func FuzzParseSourceRange(f *testing.F) {
	f.Add("10.0.0.0/8")
	f.Add("192.0.2.1")
	f.Add("2001:db8::/32")
	f.Add(" 10.0.0.1/8")

	f.Fuzz(func(t *testing.T, entry string) {
		prefix, findings := parseSourceRange(1, entry)
		if prefix.IsValid() && prefix != prefix.Masked() && len(findings) == 0 {
			t.Fatalf("%q accepted as %s with host bits set and no finding", entry, prefix)
		}
	})
}

func FuzzParseResolve(f *testing.F) {
	f.Add("apiinternal.example.com:443:10.0.0.5")
	f.Add("h:1:[2001:db8::1]")
	f.Add("::")

	f.Fuzz(func(t *testing.T, entry string) {
		host, port, address, err := parseResolve(entry)
		if err == nil && (host == "" || port == "" || address == "") {
			t.Fatalf("%q accepted with an empty part: %q %q %q", entry, host, port, address)
		}
	})
}

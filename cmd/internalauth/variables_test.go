package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEnvFileValues(t *testing.T) {
	text := strings.Join([]string{
		"\ufeff# deployment settings",
		"",
		"API_INTERNAL_ENABLED=true",
		"export API_INTERNAL_URL = apiinternal.example.com ",
		`API_INTERNAL_RESTRICT_IP="10.0.0.0/8,192.168.10.20/32" # automation hosts`,
		`PORTAL_URL='portal.example.com'`,
		`API_INTERNAL_HMAC_KEY_ID="ops \"2026\"\\x"`,
		"API_DOCKER_NAME=api.example.com # standard host",
		"API_INTERNAL_HMAC=abc#def",
		"UNRELATED=ignored",
		"API_INTERNAL_SSL_CA=",
	}, "\n")

	vars, findings := parseEnvFile("deploy.env", strings.NewReader(text))

	require.Empty(t, findings)
	assert.Equal(t, map[string]string{
		varEnabled:    "true",
		varURL:        "apiinternal.example.com",
		varRestrictIP: "10.0.0.0/8,192.168.10.20/32",
		varPortalURL:  "portal.example.com",
		varHMACKeyID:  `ops "2026"\x`,
		varAPIHost:    "api.example.com",
		varHMAC:       "abc#def",
		varSSLCA:      "",
	}, vars)
}

func TestParseEnvFileErrors(t *testing.T) {
	cases := map[string]string{
		"no equals sign":        "API_INTERNAL_URL",
		"invalid key":           "API-INTERNAL-URL=x",
		"key starts with digit": "1API=x",
		"unclosed quote":        `API_INTERNAL_URL="apiinternal.example.com`,
		"text after quote":      `API_INTERNAL_URL="a" b`,
	}

	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			_, findings := parseEnvFile("deploy.env", strings.NewReader("# first\n"+line+"\n"))

			require.Len(t, findings, 1)
			assert.Equal(t, severityError, findings[0].severity)
			assert.Equal(t, "deploy.env:2", findings[0].subject)
		})
	}
}

func TestLoadVariablesFileWins(t *testing.T) {
	environ := []string{"API_INTERNAL_URL=env.example.com", "PORTAL_URL=portal.example.com", "HOME=/root"}
	file := "API_INTERNAL_URL=file.example.com\nPORTAL_URL=portal.example.com\n"

	vars, findings, err := loadVariables("-", strings.NewReader(file), environ)

	require.NoError(t, err)
	assert.Equal(t, map[string]string{varURL: "file.example.com", varPortalURL: "portal.example.com"}, vars)
	require.Len(t, findings, 1)
	assert.Equal(t, severityWarning, findings[0].severity)
	assert.Equal(t, varURL, findings[0].subject)
}

func TestLoadVariablesEnvironmentOnly(t *testing.T) {
	vars, findings, err := loadVariables("", nil, []string{"API_INTERNAL_ENABLED=true", "PATH=/bin"})

	require.NoError(t, err)
	assert.Empty(t, findings)
	assert.Equal(t, map[string]string{varEnabled: "true"}, vars)
}

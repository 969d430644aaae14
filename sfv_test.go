package internalauth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The valid and invalid inputs below follow the dictionary, inner list,
// parameter, string, token, integer, byte sequence and boolean examples
// of RFC 8941.
func TestParseDictionaryValid(t *testing.T) {
	tests := []struct {
		input      string
		serialized map[string]string
	}{
		{`en="Applepie", da=:w4ZibGV0w6ZydGU=:`, map[string]string{"en": `"Applepie"`, "da": ":w4ZibGV0w6ZydGU=:"}},
		{`a=?0, b, c; foo=bar`, map[string]string{"a": "?0", "b": "?1", "c": "?1;foo=bar"}},
		{`rating=1;q=2, feelings=(joy sadness)`, map[string]string{"rating": "1;q=2", "feelings": "(joy sadness)"}},
		{`a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid`, map[string]string{
			"a": "(1 2)", "b": "3", "c": "4;aa=bb", "d": "(5 6);valid",
		}},
		{"a=1 ,\tb=2", map[string]string{"a": "1", "b": "2"}},
		{`a=()`, map[string]string{"a": "()"}},
		{`a=(  1   2  )`, map[string]string{"a": "(1 2)"}},
		{`a="with \"quote\" and \\"`, map[string]string{"a": `"with \"quote\" and \\"`}},
		{`a=-999999999999999`, map[string]string{"a": "-999999999999999"}},
		{`a=foo/bar:baz`, map[string]string{"a": "foo/bar:baz"}},
		{`*a=::`, map[string]string{"*a": "::"}},
		{`a=1;  b=2`, map[string]string{"a": "1;b=2"}},
	}

	for _, tc := range tests {
		members, err := parseDictionary(tc.input)
		require.NoError(t, err, tc.input)
		require.Len(t, members, len(tc.serialized), tc.input)

		for _, member := range members {
			assert.Equal(t, tc.serialized[member.key], serializeMember(member), tc.input)
		}
	}
}

func TestParseDictionaryInvalid(t *testing.T) {
	inputs := []string{
		`a=1,`,
		`a=1,,b=2`,
		`A=1`,
		`1a=1`,
		`a=1, a=2`,
		`a=1;p=1;p=2`,
		`a=1.5`,
		`a=1234567890123456`,
		`a=-`,
		`a="unterminated`,
		`a="bad\escape"`,
		"a=\"tab\there\"",
		"a=\"caf\xc3\xa9\"",
		`a=:not base64!:`,
		`a=:YQ:`,
		`a=:YR==:`,
		`a=:YWJj`,
		`a=?2`,
		`a=(1 2`,
		`a=(1,2)`,
		`a=((1))`,
		`a=1 b=2`,
		`a=@`,
		`a=`,
		`,a=1`,
		`a=(1)x`,
	}

	for _, input := range inputs {
		_, err := parseDictionary(input)
		assert.Error(t, err, input)
	}
}

func TestParseDictionaryEmpty(t *testing.T) {
	members, err := parseDictionary("  ")

	require.NoError(t, err)
	assert.Empty(t, members)
}

func TestSerializeInnerListRoundTrip(t *testing.T) {
	input := `sig1=("@method" "content-digest" "x-a\"b");created=1618884473;keyid="k\\1";nonce="n";flag`

	members, err := parseDictionary(input)
	require.NoError(t, err)
	require.Len(t, members, 1)

	serialized := serializeInnerList(members[0].list, members[0].params)

	assert.Equal(t, strings.TrimPrefix(input, "sig1="), serialized)
}

func TestIsKey(t *testing.T) {
	assert.True(t, isKey("sig1"))
	assert.True(t, isKey("*x.y-z_"))
	assert.False(t, isKey(""))
	assert.False(t, isKey("Sig"))
	assert.False(t, isKey("1sig"))
	assert.False(t, isKey("sig 1"))
}

func FuzzParseDictionary(f *testing.F) {
	seeds := []string{
		`sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1767225600;nonce="n";keyid="k";alg="hmac-sha256"`,
		`sig1=:EyJCKRV/qsdNRw+w1m8oo+HiXQdQoTrNeq2buQDlQdY=:`,
		`sha-256=:DNF/ACBQfVb+tU1/NIMlonweQmoervtAdbCqDcyIElg=:, sha-512=:AAAA:`,
		`a=?0, b, c; foo=bar`,
		`a=(1 2);x="y\"z"`,
	}
	for _, seed := range seeds {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, input string) {
		members, err := parseDictionary(input)
		if err != nil {
			return
		}

		// A parsed dictionary serializes to a canonical form that parses
		// back to the same serialization.
		var parts []string
		for _, member := range members {
			parts = append(parts, member.key+"="+serializeMember(member))
		}

		again, err := parseDictionary(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("serialization of %q does not parse: %v", input, err)
		}

		for i, member := range again {
			if serializeMember(member) != serializeMember(members[i]) {
				t.Fatalf("round trip of %q changed member %q", input, member.key)
			}
		}
	})
}

// serializeMember returns the canonical serialization of a member's
// value with its parameters.
func serializeMember(member sfMember) string {
	if member.isList {
		return serializeInnerList(member.list, member.params)
	}

	var b strings.Builder

	serializeItem(&b, member.item)
	serializeParams(&b, member.params)

	return b.String()
}

// FuzzFastSignatureMatchesParser checks that the regular expression fast
// path and the general parser agree whenever the fast path accepts.
func FuzzFastSignatureMatchesParser(f *testing.F) {
	f.Add(`sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1767225600;nonce="n";keyid="k";alg="hmac-sha256"`)
	f.Add(`a=();created=0;tag="x\"y\\z"`)
	f.Add(`a=("x" "x");created=1;created=2`)

	const signatureField = "sig1=:EyJCKRV/qsdNRw+w1m8oo+HiXQdQoTrNeq2buQDlQdY=:"

	f.Fuzz(func(t *testing.T, input string) {
		members, _ := parseDictionary(input)
		label := "sig1"
		if len(members) > 0 {
			label = members[0].key
		}

		fast, ok := fastSignature(input, strings.Replace(signatureField, "sig1", label, 1), "")
		if !ok {
			return
		}

		if len(members) != 1 {
			t.Fatalf("fast path accepted %q, which the parser reads as %d members", input, len(members))
		}

		slow, reason := parseSignatureInput(members[0])
		if reason != "" {
			if reason == reasonSignatureMalformed || reason == reasonComponentUnsupported {
				return
			}

			t.Fatalf("parser rejected %q with %s", input, reason)
		}

		if fast.serialized != slow.serialized {
			t.Fatalf("signature params differ for %q: %q and %q", input, fast.serialized, slow.serialized)
		}

		if strings.Join(fast.components, "|") != strings.Join(slow.components, "|") {
			t.Fatalf("components differ for %q", input)
		}

		if fast.keyID != slow.keyID || fast.nonce != slow.nonce || fast.created != slow.created ||
			fast.expires != slow.expires || fast.tag != slow.tag || fast.alg != slow.alg ||
			fast.hasNonce != slow.hasNonce || fast.hasExpires != slow.hasExpires {
			t.Fatalf("parameters differ for %q: %+v and %+v", input, fast, slow)
		}
	})
}

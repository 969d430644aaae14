package internalauth

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
)

// Under yaegi v0.16.1 an interpreted statement costs roughly a
// microsecond (measured on a 2-core x86-64 machine), so parsing a field
// byte by byte would dominate the time of a request. The
// fast paths below match the common case, one signature in canonical
// form, with a few regular expressions that run compiled. Whatever they
// do not match goes to the general parser in sfv.go, which decides.

// canonicalComponent matches a quoted component name that
// checkComponentName accepts: a derived component of derivedComponents,
// or a lowercase field name. A derived component added there must be
// added here too.
const canonicalComponent = `"(?:@(?:method|target-uri|authority|scheme|request-target|path|query)|` +
	"[a-z0-9!#$%&'*+.^_`|~-]+)\""

// canonicalInput matches a Signature-Input field holding one signature in
// canonical serialization: supported component names, single spaces, and
// only the signature parameters RFC 9421 defines, with their expected
// types.
var canonicalInput = regexp.MustCompile(`^([a-z*][a-z0-9_.*-]*)=(\(((?:` + canonicalComponent + `)(?: ` + canonicalComponent + `)*)?\)` +
	`((?:;(?:created|expires)=(?:0|[1-9][0-9]{0,14})|;(?:nonce|keyid|alg|tag)="(?:[ !#-\[\]-~]|\\["\\])*")*))$`)

// signedInput matches a Signature-Input field in the exact form Sign
// writes: the parameters created, expires (optional), nonce, keyid, alg
// and tag (optional), in that order, with string values that need no
// escaping. One match extracts every parameter, which keeps the common
// case to a few interpreted statements.
var signedInput = regexp.MustCompile(`^([a-z*][a-z0-9_.*-]*)=(\(((?:` + canonicalComponent + `)(?: ` + canonicalComponent + `)*)?\)` +
	`;created=(0|[1-9][0-9]{0,14})(?:;expires=(0|[1-9][0-9]{0,14}))?` +
	`;nonce="([ !#-\[\]-~]{1,256})";keyid="([ !#-\[\]-~]*)";alg="([ !#-\[\]-~]*)"(?:;tag="([ !#-\[\]-~]+)")?)$`)

// canonicalParam extracts one parameter from the parameters that
// canonicalInput accepted.
var canonicalParam = regexp.MustCompile(`;([a-z]+)=(?:([0-9]+)|"((?:[^"\\]|\\.)*)")`)

// canonicalSignature matches a Signature field holding one HMAC-SHA256
// value: 32 bytes are 43 base64 characters and one padding character.
var canonicalSignature = regexp.MustCompile(`^([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=):$`)

// canonicalDigest matches a Content-Digest field with one sha-256 or
// sha-512 member.
var canonicalDigest = regexp.MustCompile(`^(sha-256|sha-512)=:([A-Za-z0-9+/]+={0,2}):$`)

// fastSignature parses Signature-Input and Signature when each holds one
// signature in canonical form with the same label. It reports false when
// the general parser must decide.
func fastSignature(inputField, signatureField, label string) (*signature, bool) {
	if sig, ok := signedSignature(inputField, signatureField, label); ok {
		return sig, true
	}

	input := canonicalInput.FindStringSubmatch(inputField)
	if input == nil || (label != "" && input[1] != label) {
		return nil, false
	}

	mac, ok := canonicalMAC(signatureField, input[1])
	if !ok {
		return nil, false
	}

	// The serialization is canonical, so it is the @signature-params value.
	sig := &signature{serialized: input[2], componentList: input[3], mac: mac, components: splitComponents(input[3])}

	for _, param := range canonicalParam.FindAllStringSubmatch(input[4], -1) {
		if !sig.setCanonicalParam(param[1], param[2], param[3]) {
			return nil, false
		}
	}

	return sig, true
}

// signedSignature is fastSignature for a field that signedInput matches.
func signedSignature(inputField, signatureField, label string) (*signature, bool) {
	input := signedInput.FindStringSubmatch(inputField)
	if input == nil || (label != "" && input[1] != label) {
		return nil, false
	}

	mac, ok := canonicalMAC(signatureField, input[1])
	if !ok {
		return nil, false
	}

	// The regular expression bounds both integers to 15 digits, so they
	// parse without error.
	created, _ := strconv.ParseInt(input[4], 10, 64)
	expires, _ := strconv.ParseInt(input[5], 10, 64)

	sig := &signature{
		serialized:    input[2],
		componentList: input[3],
		mac:           mac,
		created:       created, hasCreated: true,
		expires: expires, hasExpires: input[5] != "",
		nonce: input[6], hasNonce: true,
		keyID: input[7], hasKeyID: true,
		alg: input[8], hasAlg: true,
		tag: input[9], hasTag: input[9] != "",
		components: splitComponents(input[3]),
	}

	return sig, true
}

// canonicalMAC reads a Signature field that holds one HMAC-SHA256 value
// under label, in canonical form.
func canonicalMAC(signatureField, label string) ([]byte, bool) {
	value := canonicalSignature.FindStringSubmatch(signatureField)
	if value == nil || value[1] != label {
		return nil, false
	}

	mac, err := strictBase64.DecodeString(value[2])

	return mac, err == nil
}

// splitComponents returns the names of a canonical inner list of
// component names, as the fast paths matched it.
func splitComponents(list string) []string {
	switch list {
	case "":
		return nil
	case defaultComponentList:
		// Shared, and never modified.
		return DefaultComponents
	default:
		return strings.Split(strings.ReplaceAll(list, `"`, ""), " ")
	}
}

// strictBase64 rejects non-zero padding bits, so one MAC has one
// encoding.
var strictBase64 = base64.StdEncoding.Strict()

// setCanonicalParam stores one parameter matched by canonicalParam. It
// reports false for a repeated parameter.
func (s *signature) setCanonicalParam(key, integer, text string) bool {
	if strings.Contains(text, `\`) {
		text = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(text)
	}

	var repeated bool

	switch key {
	case "created":
		repeated = s.hasCreated
		s.created, _ = strconv.ParseInt(integer, 10, 64)
		s.hasCreated = true
	case "expires":
		repeated = s.hasExpires
		s.expires, _ = strconv.ParseInt(integer, 10, 64)
		s.hasExpires = true
	case "nonce":
		repeated = s.hasNonce || text == "" || len(text) > maxNonceBytes
		s.nonce, s.hasNonce = text, true
	case "keyid":
		repeated = s.hasKeyID
		s.keyID, s.hasKeyID = text, true
	case "alg":
		repeated = s.hasAlg
		s.alg, s.hasAlg = text, true
	case "tag":
		repeated = s.hasTag
		s.tag, s.hasTag = text, true
	}

	return !repeated
}

// fastDigest reads a Content-Digest field with one member. It reports
// false when the general parser must decide.
func fastDigest(field string) (algorithm string, sum []byte, ok bool) {
	match := canonicalDigest.FindStringSubmatch(field)
	if match == nil {
		return "", nil, false
	}

	sum, err := strictBase64.DecodeString(match[2])
	if err != nil {
		return "", nil, false
	}

	return match[1], sum, true
}

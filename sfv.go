package internalauth

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// This file parses and serializes the subset of RFC 8941 structured
// fields that Signature-Input, Signature and Content-Digest use:
// dictionaries whose members are items or inner lists, with parameters,
// and the bare item types integer, string, token, byte sequence and
// boolean. Decimals are rejected. Parsing is strict: duplicate keys,
// trailing commas, non-canonical base64 and characters outside the
// grammar all fail. Scanning relies on strings functions so that the
// per-byte work runs compiled even when yaegi interprets this package.

const (
	lowerAlpha = "abcdefghijklmnopqrstuvwxyz"
	digits     = "0123456789"
	keyChars   = lowerAlpha + digits + "_-.*"
	tokenChars = lowerAlpha + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + digits + "!#$%&'*+-.^_`|~:/"
	// stringChars is printable ASCII without '"' and '\\'.
	stringChars = " !#$%&'()*+,-./" + digits + ":;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`" +
		lowerAlpha + "{|}~"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + lowerAlpha + digits + "+/="

	maxIntegerDigits = 15
)

var errStructuredField = errors.New("invalid structured field")

type sfKind int

// The kinds have explicit values: yaegi v0.16.1 compares a typed
// "iota + 1" constant as unequal to itself.
const (
	sfInteger sfKind = 1
	sfString  sfKind = 2
	sfToken   sfKind = 3
	sfBytes   sfKind = 4
	sfBoolean sfKind = 5
)

// sfItem is a bare item. str holds strings and tokens.
type sfItem struct {
	kind    sfKind
	integer int64
	str     string
	bytes   []byte
	boolean bool
}

type sfParam struct {
	key   string
	value sfItem
}

// sfInnerItem is an item of an inner list with its parameters.
type sfInnerItem struct {
	value  sfItem
	params []sfParam
}

// sfMember is a dictionary member: either an item or an inner list, with
// the parameters that follow it.
type sfMember struct {
	key    string
	isList bool
	item   sfItem
	list   []sfInnerItem
	params []sfParam
}

type sfParser struct {
	input string
	pos   int
}

// parseDictionary parses a dictionary field value. Members keep their
// order; a repeated key is an error. Keys are checked against a set, so
// a field of thousands of short members costs linear time, which matters
// under yaegi.
func parseDictionary(value string) ([]sfMember, error) {
	p := &sfParser{input: value}
	p.skipOWS()

	var members []sfMember

	seen := make(map[string]bool)

	for p.pos < len(p.input) {
		member, err := p.parseMember()
		if err != nil {
			return nil, err
		}

		if seen[member.key] {
			return nil, errStructuredField
		}

		seen[member.key] = true
		members = append(members, member)

		p.skipOWS()

		if p.pos == len(p.input) {
			return members, nil
		}

		if p.input[p.pos] != ',' {
			return nil, errStructuredField
		}

		p.pos++
		p.skipOWS()

		if p.pos == len(p.input) {
			return nil, errStructuredField
		}
	}

	return members, nil
}

func (p *sfParser) parseMember() (sfMember, error) {
	key, err := p.parseKey()
	if err != nil {
		return sfMember{}, err
	}

	member := sfMember{key: key}

	if p.pos == len(p.input) || p.input[p.pos] != '=' {
		member.item = sfItem{kind: sfBoolean, boolean: true}
		member.params, err = p.parseParams()

		return member, err
	}

	p.pos++

	if p.pos < len(p.input) && p.input[p.pos] == '(' {
		member.isList = true
		member.list, err = p.parseInnerList()
	} else {
		member.item, err = p.parseBareItem()
	}

	if err != nil {
		return sfMember{}, err
	}

	member.params, err = p.parseParams()

	return member, err
}

func (p *sfParser) parseInnerList() ([]sfInnerItem, error) {
	p.pos++ // '('

	list := []sfInnerItem{}

	for {
		p.skipSP()

		if p.pos == len(p.input) {
			return nil, errStructuredField
		}

		if p.input[p.pos] == ')' {
			p.pos++

			return list, nil
		}

		item, err := p.parseBareItem()
		if err != nil {
			return nil, err
		}

		params, err := p.parseParams()
		if err != nil {
			return nil, err
		}

		list = append(list, sfInnerItem{value: item, params: params})

		if p.pos == len(p.input) || (p.input[p.pos] != ' ' && p.input[p.pos] != ')') {
			return nil, errStructuredField
		}
	}
}

// parseParams parses the parameters at the current position. Like
// parseDictionary, it finds a repeated key with a set, made only when a
// parameter is present because most inner list items have none.
func (p *sfParser) parseParams() ([]sfParam, error) {
	var params []sfParam

	var seen map[string]bool

	for p.pos < len(p.input) && p.input[p.pos] == ';' {
		p.pos++
		p.skipSP()

		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}

		value := sfItem{kind: sfBoolean, boolean: true}

		if p.pos < len(p.input) && p.input[p.pos] == '=' {
			p.pos++

			value, err = p.parseBareItem()
			if err != nil {
				return nil, err
			}
		}

		if seen == nil {
			seen = make(map[string]bool)
		}

		if seen[key] {
			return nil, errStructuredField
		}

		seen[key] = true
		params = append(params, sfParam{key: key, value: value})
	}

	return params, nil
}

func (p *sfParser) parseKey() (string, error) {
	rest := p.input[p.pos:]
	if rest == "" || (!isLowerAlpha(rest[0]) && rest[0] != '*') {
		return "", errStructuredField
	}

	n := spanOf(rest, keyChars)
	p.pos += n

	return rest[:n], nil
}

func (p *sfParser) parseBareItem() (sfItem, error) {
	if p.pos == len(p.input) {
		return sfItem{}, errStructuredField
	}

	switch c := p.input[p.pos]; {
	case c == '-' || isDigit(c):
		return p.parseInteger()
	case c == '"':
		return p.parseString()
	case c == ':':
		return p.parseBytes()
	case c == '?':
		return p.parseBoolean()
	case c == '*' || isAlpha(c):
		n := spanOf(p.input[p.pos:], tokenChars)
		token := p.input[p.pos : p.pos+n]
		p.pos += n

		return sfItem{kind: sfToken, str: token}, nil
	default:
		return sfItem{}, errStructuredField
	}
}

func (p *sfParser) parseInteger() (sfItem, error) {
	start := p.pos
	if p.input[p.pos] == '-' {
		p.pos++
	}

	n := spanOf(p.input[p.pos:], digits)
	if n == 0 || n > maxIntegerDigits {
		return sfItem{}, errStructuredField
	}

	p.pos += n

	// Decimals are valid structured fields but appear in none of the
	// fields this package reads.
	if p.pos < len(p.input) && p.input[p.pos] == '.' {
		return sfItem{}, errStructuredField
	}

	value, err := strconv.ParseInt(p.input[start:p.pos], 10, 64)
	if err != nil {
		return sfItem{}, errStructuredField
	}

	return sfItem{kind: sfInteger, integer: value}, nil
}

func (p *sfParser) parseString() (sfItem, error) {
	p.pos++ // '"'

	var b strings.Builder

	for {
		rest := p.input[p.pos:]

		n := spanOf(rest, stringChars)
		b.WriteString(rest[:n])
		p.pos += n

		if p.pos == len(p.input) {
			return sfItem{}, errStructuredField
		}

		switch p.input[p.pos] {
		case '"':
			p.pos++

			return sfItem{kind: sfString, str: b.String()}, nil
		case '\\':
			if p.pos+1 == len(p.input) {
				return sfItem{}, errStructuredField
			}

			escaped := p.input[p.pos+1]
			if escaped != '"' && escaped != '\\' {
				return sfItem{}, errStructuredField
			}

			b.WriteByte(escaped)
			p.pos += 2
		default:
			return sfItem{}, errStructuredField
		}
	}
}

// parseBytes decodes a byte sequence with strict base64: padding is
// required and the unused bits of the last character must be zero, so
// one value has exactly one spelling.
func (p *sfParser) parseBytes() (sfItem, error) {
	p.pos++ // ':'

	rest := p.input[p.pos:]

	end := strings.IndexByte(rest, ':')
	if end < 0 || spanOf(rest[:end], base64Chars) != end {
		return sfItem{}, errStructuredField
	}

	decoded, err := strictBase64.DecodeString(rest[:end])
	if err != nil {
		return sfItem{}, errStructuredField
	}

	p.pos += end + 1

	return sfItem{kind: sfBytes, bytes: decoded}, nil
}

func (p *sfParser) parseBoolean() (sfItem, error) {
	rest := p.input[p.pos:]
	if len(rest) < 2 || (rest[1] != '0' && rest[1] != '1') {
		return sfItem{}, errStructuredField
	}

	p.pos += 2

	return sfItem{kind: sfBoolean, boolean: rest[1] == '1'}, nil
}

func (p *sfParser) skipOWS() {
	rest := p.input[p.pos:]
	p.pos += len(rest) - len(strings.TrimLeft(rest, " \t"))
}

func (p *sfParser) skipSP() {
	rest := p.input[p.pos:]
	p.pos += len(rest) - len(strings.TrimLeft(rest, " "))
}

// spanOf returns the length of the prefix of s made only of bytes in
// set. strings.TrimLeft keeps the scan in compiled code under yaegi.
func spanOf(s, set string) int {
	return len(s) - len(strings.TrimLeft(s, set))
}

func isLowerAlpha(c byte) bool { return c >= 'a' && c <= 'z' }

func isAlpha(c byte) bool { return isLowerAlpha(c) || (c >= 'A' && c <= 'Z') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isKey reports whether s is a valid dictionary or parameter key.
func isKey(s string) bool {
	return s != "" && (isLowerAlpha(s[0]) || s[0] == '*') && spanOf(s, keyChars) == len(s)
}

// isPrintableString reports whether s can be serialized as a structured
// field string.
func isPrintableString(s string) bool {
	return spanOf(s, stringChars+"\"\\") == len(s)
}

// serializeItem appends the canonical serialization of a bare item.
func serializeItem(b *strings.Builder, item sfItem) {
	switch item.kind {
	case sfInteger:
		b.WriteString(strconv.FormatInt(item.integer, 10))
	case sfString:
		b.WriteByte('"')
		if strings.ContainsAny(item.str, "\"\\") {
			b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(item.str))
		} else {
			b.WriteString(item.str)
		}
		b.WriteByte('"')
	case sfToken:
		b.WriteString(item.str)
	case sfBytes:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(item.bytes))
		b.WriteByte(':')
	case sfBoolean:
		if item.boolean {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

func serializeParams(b *strings.Builder, params []sfParam) {
	for _, param := range params {
		b.WriteByte(';')
		b.WriteString(param.key)

		if param.value.kind == sfBoolean && param.value.boolean {
			continue
		}

		b.WriteByte('=')
		serializeItem(b, param.value)
	}
}

// serializeInnerList returns the canonical serialization of an inner list
// with its parameters, the form @signature-params takes.
func serializeInnerList(list []sfInnerItem, params []sfParam) string {
	var b strings.Builder

	b.WriteByte('(')

	for i, item := range list {
		if i > 0 {
			b.WriteByte(' ')
		}

		serializeItem(&b, item.value)
		serializeParams(&b, item.params)
	}

	b.WriteByte(')')
	serializeParams(&b, params)

	return b.String()
}

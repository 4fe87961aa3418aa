package resiliencetest

import (
	"encoding/json"
)

// SetJSONField returns a corruption for [Corrupt] that decodes the body as a
// JSON object, sets its field name to value and encodes it again: the body
// still decodes, but violates an invariant the client should check, such
// as SetJSONField("amount", -100) or SetJSONField("order_id", "ord-other").
// Other fields keep their encoding; the order of fields may change. A body
// that is not a JSON object is replaced by an object holding only that
// field, so the corruption always happens. A value that cannot be encoded
// as JSON panics at once.
func SetJSONField(name string, value any) func(body []byte) []byte {
	enc, err := json.Marshal(value)
	if err != nil {
		panic("resiliencetest: SetJSONField: " + err.Error())
	}
	return func(body []byte) []byte {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil || obj == nil {
			obj = make(map[string]json.RawMessage, 1)
		}
		obj[name] = enc
		out, _ := json.Marshal(obj) // cannot fail: every value is valid JSON
		return out
	}
}

// Garble is a corruption for [Corrupt] that inverts every bit of the middle
// byte of the body: same length, different content, usually no longer valid
// JSON. An empty body becomes a single byte.
func Garble(body []byte) []byte {
	if len(body) == 0 {
		return []byte{0xff}
	}
	body[len(body)/2] ^= 0xff
	return body
}

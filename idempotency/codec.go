package idempotency

import "encoding/json"

// Codec encodes the results [Do] records and decodes them on replay: Marshal
// gets the value, Unmarshal a pointer to a zero value of its type.
// Implementations must be safe for concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default [Codec]: encoding/json.
type JSON struct{}

// Marshal returns json.Marshal(v).
func (JSON) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal calls json.Unmarshal(data, v).
func (JSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// noValue is the codec of operations without a value (the Policy): it
// records nothing.
type noValue struct{}

func (noValue) Marshal(any) ([]byte, error) { return nil, nil }
func (noValue) Unmarshal([]byte, any) error { return nil }

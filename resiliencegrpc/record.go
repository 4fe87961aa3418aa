package resiliencegrpc

import (
	"encoding/binary"
	"errors"
	"fmt"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// recordCodec encodes a record: the status and the type name, each after
// its length as a uvarint, then the body.
type recordCodec struct{}

func (recordCodec) Marshal(v any) ([]byte, error) {
	r, ok := v.(record)
	if !ok {
		return nil, fmt.Errorf("resiliencegrpc: cannot encode %T", v)
	}
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(r.Status)+len(r.Type)+len(r.Body))
	b = binary.AppendUvarint(b, uint64(len(r.Status)))
	b = append(b, r.Status...)
	b = binary.AppendUvarint(b, uint64(len(r.Type)))
	b = append(b, r.Type...)
	return append(b, r.Body...), nil
}

var errBadRecord = errors.New("resiliencegrpc: malformed record")

func (recordCodec) Unmarshal(data []byte, v any) error {
	r, ok := v.(*record)
	if !ok {
		return fmt.Errorf("resiliencegrpc: cannot decode into %T", v)
	}
	st, data, err := field(data)
	if err != nil {
		return err
	}
	typ, body, err := field(data)
	if err != nil {
		return err
	}
	*r = record{Status: st, Type: string(typ), Body: body}
	return nil
}

// field splits a uvarint-prefixed field off data.
func field(data []byte) (f, rest []byte, err error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)-k) {
		return nil, nil, errBadRecord
	}
	return data[k : k+int(n)], data[k+int(n):], nil
}

func unmarshalStatus(b []byte) (*status.Status, error) {
	p := new(spb.Status)
	if err := proto.Unmarshal(b, p); err != nil {
		return nil, err
	}
	return status.FromProto(p), nil
}

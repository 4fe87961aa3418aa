package resiliencegrpc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRecordCodecRoundTripsAndRefusesMalformedRecords(t *testing.T) {
	r := record{Status: []byte{1, 2, 3}, Type: "google.protobuf.StringValue", Body: []byte("body")}
	b, err := recordCodec{}.Marshal(r)
	require.NoError(t, err)
	var got record
	require.NoError(t, recordCodec{}.Unmarshal(b, &got))
	assert.Equal(t, r, got)

	for _, bad := range [][]byte{nil, {0x80}, {5, 1}, {0, 9, 'x'}} {
		assert.ErrorIs(t, recordCodec{}.Unmarshal(bad, &got), errBadRecord, "%v", bad)
	}
	_, err = recordCodec{}.Marshal("other")
	assert.Error(t, err)
	assert.Error(t, recordCodec{}.Unmarshal(b, new(string)))
}

func TestReplayOfAnUnknownTypeOrBadBytesIsInternal(t *testing.T) {
	for _, r := range []record{
		{Type: "no.such.Message"},
		{Type: "google.protobuf.StringValue", Body: []byte{0xff}},
		{Status: []byte{0xff}},
	} {
		_, err := r.replay()
		assert.Equal(t, codes.Internal, status.Code(err), "%+v", r)
	}
}

func TestParsePushback(t *testing.T) {
	for v, want := range map[string]struct {
		ms   int64
		stop bool
	}{
		"0": {0, false}, "15": {15, false}, "-1": {0, true}, "x": {0, true}, "": {0, true}, "+5": {5, false},
		"99999999999999999999": {-1, false}, "9223372036854775807": {-1, false},
	} {
		d, present, stop := parsePushback(map[string][]string{PushbackKey: {v}})
		assert.True(t, present, v)
		assert.Equal(t, want.stop, stop, v)
		if want.ms >= 0 {
			assert.EqualValues(t, want.ms, d.Milliseconds(), v)
		} else {
			assert.EqualValues(t, 1<<63-1, d, v, "too large for a Duration: the largest")
		}
	}
	_, present, _ := parsePushback(nil)
	assert.False(t, present)
}

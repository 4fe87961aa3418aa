package resiliencetest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestSetJSONFieldChangesOneFieldAndKeepsTheRest(t *testing.T) {
	out := resiliencetest.SetJSONField("amount", -100)([]byte(`{"order_id":"ord-1","amount":100,"note":{"a":[1,2]}}`))
	assert.JSONEq(t, `{"order_id":"ord-1","amount":-100,"note":{"a":[1,2]}}`, string(out))
}

func TestSetJSONFieldAddsAMissingField(t *testing.T) {
	out := resiliencetest.SetJSONField("order_id", "ord-other")([]byte(`{"amount":1}`))
	assert.JSONEq(t, `{"order_id":"ord-other","amount":1}`, string(out))
}

func TestSetJSONFieldReplacesABodyThatIsNotAnObject(t *testing.T) {
	for _, body := range []string{``, `[1]`, `null`, `oops`} {
		out := resiliencetest.SetJSONField("amount", -1)([]byte(body))
		assert.JSONEq(t, `{"amount":-1}`, string(out), "body %q", body)
	}
}

func TestSetJSONFieldPanicsOnAValueJSONCannotEncode(t *testing.T) {
	assert.Panics(t, func() { resiliencetest.SetJSONField("f", func() {}) })
}

func TestGarbleChangesTheBodyButNotItsLength(t *testing.T) {
	body := []byte(`{"amount":100}`)
	orig := string(body)
	out := resiliencetest.Garble(body)
	assert.Len(t, out, len(orig))
	assert.NotEqual(t, orig, string(out))
	assert.Equal(t, []byte{0xff}, resiliencetest.Garble(nil))
}

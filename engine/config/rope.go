package config

import (
	"bytes"
	"encoding/json"
)

// rawRope is a rope_scaling or rope_parameters object.
type rawRope struct {
	RopeType                      *string  `json:"rope_type"`
	Type                          *string  `json:"type"` // legacy spelling of rope_type
	RopeTheta                     *float64 `json:"rope_theta"`
	Factor                        *float64 `json:"factor"`
	LowFreqFactor                 *float64 `json:"low_freq_factor"`
	HighFreqFactor                *float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int     `json:"original_max_position_embeddings"`
	PartialRotaryFactor           *float64 `json:"partial_rotary_factor"`
}

// parseRope resolves RopeTheta and RopeScaling the way transformers 5 does:
// the parameters come from rope_scaling when it is a non-empty object, else
// from rope_parameters; rope_theta inside them wins over the top-level
// rope_theta, which wins over the default 10000.
func (c *Config) parseRope(raw *rawConfig) error {
	var params *rawRope
	for _, src := range []struct {
		name string
		msg  json.RawMessage
	}{{"rope_scaling", raw.RopeScaling}, {"rope_parameters", raw.RopeParameters}} {
		p, err := decodeRope(src.name, src.msg)
		if err != nil {
			return err
		}
		if p != nil {
			params = p
			break
		}
	}
	if params == nil {
		params = &rawRope{}
	}
	c.RopeTheta = 10000
	switch {
	case params.RopeTheta != nil:
		c.RopeTheta = *params.RopeTheta
	case raw.RopeTheta != nil:
		c.RopeTheta = *raw.RopeTheta
	}
	if !finitePositive(c.RopeTheta) {
		return invalid("rope_theta %v is not a positive finite number", c.RopeTheta)
	}
	for _, f := range []*float64{raw.PartialRotaryFactor, params.PartialRotaryFactor} {
		if f != nil && *f != 1 {
			return unsupported("partial_rotary_factor %v (only 1)", *f)
		}
	}
	kind := "default"
	switch {
	case params.RopeType != nil:
		kind = *params.RopeType
	case params.Type != nil:
		kind = *params.Type
	}
	switch kind {
	case "default":
		return nil
	case "linear":
		if params.Factor == nil {
			return invalid("linear rope scaling needs factor")
		}
		c.RopeScaling = &RopeScaling{Type: kind, Factor: *params.Factor}
	case "llama3":
		if params.Factor == nil || params.LowFreqFactor == nil || params.HighFreqFactor == nil {
			return invalid("llama3 rope scaling needs factor, low_freq_factor and high_freq_factor")
		}
		s := &RopeScaling{Type: kind, Factor: *params.Factor, LowFreqFactor: *params.LowFreqFactor,
			HighFreqFactor: *params.HighFreqFactor, OriginalMaxPositionEmbeddings: c.MaxPositionEmbeddings}
		if params.OriginalMaxPositionEmbeddings != nil {
			s.OriginalMaxPositionEmbeddings = *params.OriginalMaxPositionEmbeddings
		}
		if !finitePositive(s.LowFreqFactor) || !(s.HighFreqFactor > s.LowFreqFactor) || !finitePositive(s.HighFreqFactor) {
			return invalid("llama3 rope scaling needs 0 < low_freq_factor (%v) < high_freq_factor (%v)", s.LowFreqFactor, s.HighFreqFactor)
		}
		if err := checkRange("original_max_position_embeddings", s.OriginalMaxPositionEmbeddings, MaxPositionEmbeddings); err != nil {
			return err
		}
		c.RopeScaling = s
	default:
		return unsupported("rope type %q (supported: default, linear, llama3)", kind)
	}
	if !finitePositive(c.RopeScaling.Factor) {
		return invalid("rope scaling factor %v is not a positive finite number", c.RopeScaling.Factor)
	}
	return nil
}

// decodeRope decodes a rope object; absent, null and {} give nil, as they
// are all false in transformers' "rope_scaling or rope_parameters".
// Per-layer-type parameters (nested objects) are not supported.
func decodeRope(name string, msg json.RawMessage) (*rawRope, error) {
	if len(msg) == 0 || string(msg) == "null" {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(msg, &fields); err != nil {
		return nil, invalid("%s is not an object", name)
	}
	if len(fields) == 0 {
		return nil, nil
	}
	for k, v := range fields {
		if bytes.HasPrefix(v, []byte("{")) {
			return nil, unsupported("%s: per-layer-type parameters (%q)", name, k)
		}
	}
	var p rawRope
	if err := unmarshalExact(msg, &p); err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	return &p, nil
}

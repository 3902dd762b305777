package config

import (
	"encoding/json"
	"fmt"
	"math"
)

// Generation is a validated generation_config.json. Pointer fields are nil
// when the file does not set them, so callers can tell "unset" from a value.
type Generation struct {
	// BOSTokenIDs and EOSTokenIDs are "bos_token_id" / "eos_token_id"
	// (int, list or null).
	BOSTokenIDs, EOSTokenIDs []int
	// DoSample is "do_sample"; transformers samples only when it is true and
	// decodes greedily otherwise, whatever Temperature says.
	DoSample *bool
	// Temperature is >= 0.
	Temperature *float64
	// TopP is in [0, 1].
	TopP *float64
	// TopK is >= 0 (0 disables it).
	TopK *int
	// RepetitionPenalty is > 0.
	RepetitionPenalty *float64
}

// rawGeneration is generation_config.json as written.
type rawGeneration struct {
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	TopK              *int            `json:"top_k"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
}

// ParseGeneration parses and validates generation_config.json.
func ParseGeneration(data []byte) (*Generation, error) {
	var raw rawGeneration
	if err := unmarshalExact(data, &raw); err != nil {
		return nil, fmt.Errorf("config: generation config: bad JSON: %v: %w", err, ErrInvalid)
	}
	g := &Generation{DoSample: raw.DoSample, Temperature: raw.Temperature, TopP: raw.TopP, TopK: raw.TopK, RepetitionPenalty: raw.RepetitionPenalty}
	var err error
	if g.BOSTokenIDs, err = tokenIDs("bos_token_id", raw.BOSTokenID, nil, 0); err != nil {
		return nil, err
	}
	if g.EOSTokenIDs, err = tokenIDs("eos_token_id", raw.EOSTokenID, nil, 0); err != nil {
		return nil, err
	}
	switch {
	case g.Temperature != nil && !(*g.Temperature >= 0 && !math.IsInf(*g.Temperature, 0)):
		return nil, invalid("temperature %v is not a finite number >= 0", *g.Temperature)
	case g.TopP != nil && !(*g.TopP >= 0 && *g.TopP <= 1):
		return nil, invalid("top_p %v is outside [0, 1]", *g.TopP)
	case g.TopK != nil && *g.TopK < 0:
		return nil, invalid("top_k %d is negative", *g.TopK)
	case g.RepetitionPenalty != nil && !finitePositive(*g.RepetitionPenalty):
		return nil, invalid("repetition_penalty %v is not a positive finite number", *g.RepetitionPenalty)
	}
	return g, nil
}

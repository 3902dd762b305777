package chat

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// golden is engine/chat/testdata/golden.json, written by
// ci/reference/chat_golden.py with transformers' apply_chat_template.
type golden struct {
	Transformers  string                    `json:"transformers"`
	Templates     map[string]goldenTemplate `json:"templates"`
	Conversations map[string][]Message      `json:"conversations"`
	Cases         []goldenCase              `json:"cases"`
}

type goldenTemplate struct {
	ChatTemplate string  `json:"chat_template"`
	BOSToken     *string `json:"bos_token"`
	EOSToken     *string `json:"eos_token"`
}

type goldenCase struct {
	Template            string  `json:"template"`
	Conversation        string  `json:"conversation"`
	AddGenerationPrompt bool    `json:"add_generation_prompt"`
	Rendered            *string `json:"rendered"`
	Error               *string `json:"error"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Cases)
	return g
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestGolden requires byte-identical output to transformers for every
// template, conversation and add_generation_prompt setting, and an
// ErrRaised error carrying the same message where the template raised.
func TestGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Cases {
		name := c.Template + "/" + c.Conversation
		if c.AddGenerationPrompt {
			name += "/gen"
		}
		t.Run(name, func(t *testing.T) {
			tpl, ok := g.Templates[c.Template]
			require.True(t, ok)
			msgs, ok := g.Conversations[c.Conversation]
			require.True(t, ok)
			got, err := Render(tpl.ChatTemplate, msgs, Options{
				AddGenerationPrompt: c.AddGenerationPrompt,
				BOSToken:            deref(tpl.BOSToken),
				EOSToken:            deref(tpl.EOSToken),
			})
			if c.Error != nil {
				require.ErrorIs(t, err, ErrRaised)
				assert.ErrorIs(t, err, ErrRender)
				assert.Contains(t, err.Error(), *c.Error)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, c.Rendered)
			assert.Equal(t, *c.Rendered, got)
		})
	}
}

// TestStrftimeNow checks strftime_now against Python's datetime.strftime
// for the times and formats recorded in the golden file.
func TestStrftimeNow(t *testing.T) {
	var g struct {
		Strftime []struct {
			Time, Format, Want string
		} `json:"strftime"`
	}
	data, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Strftime)
	for _, c := range g.Strftime {
		now, err := time.Parse("2006-01-02T15:04:05", c.Time)
		require.NoError(t, err)
		got, err := Render("{{ strftime_now('"+c.Format+"') }}", nil, Options{Now: now})
		require.NoError(t, err, "%s %q", c.Time, c.Format)
		assert.Equal(t, c.Want, got, "%s %q", c.Time, c.Format)
	}
}

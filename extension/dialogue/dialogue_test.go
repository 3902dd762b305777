package dialogue

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/audit"
	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/generate"
	"github.com/loomai/loom/engine/sample"
)

// tinyChat is the reference helper's tiny Llama with a real tokenizer and
// chat template; golden.json holds transformers' output for it.
var tinyChat = filepath.Join("..", "..", "testdata", "models", "tiny-chat")

type golden struct {
	Messages   []chat.Message `json:"messages"`
	PromptText string         `json:"prompt_text"`
	PromptIDs  []int          `json:"prompt_ids"`
	GreedyIDs  []int          `json:"greedy_ids"`
	GreedyText string         `json:"greedy_text"`
	VocabSize  int            `json:"vocab_size"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tinyChat, "golden.json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	return g
}

func loadTiny(t *testing.T, o Options) *Model {
	t.Helper()
	m, err := Load(tinyChat, o)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

// run starts r on s and collects the streamed pieces.
func run(t *testing.T, s *Session, r Request) ([]string, Result) {
	t.Helper()
	j := s.Start(r)
	select {
	case <-j.Done():
	case <-time.After(time.Minute):
		t.Fatal("generation did not finish")
	}
	pieces, over := j.Take(0)
	require.True(t, over)
	return pieces, j.Result()
}

func greedy(msgs []chat.Message, n int) Request {
	return Request{Messages: msgs, UseChatTemplate: true, MaxTokens: n}
}

func TestChatMatchesTransformers(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name string
		load func() (*Model, error)
	}{
		{"os folder", func() (*Model, error) { return Load(tinyChat, Options{}) }},
		{"fs.FS", func() (*Model, error) { return LoadFS(os.DirFS(tinyChat), "tiny-chat", Options{Threads: 2}) }},
		{"background threads", func() (*Model, error) { return Load(tinyChat, Options{Threads: 2, Background: true}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.load()
			require.NoError(t, err)
			defer m.Close()
			pieces, res := run(t, m.NewSession(), greedy(g.Messages, len(g.GreedyIDs)))
			require.NoError(t, res.Err)
			assert.Equal(t, g.GreedyText, res.Text, "greedy reply differs from transformers")
			assert.Equal(t, res.Text, strings.Join(pieces, ""), "streamed pieces must join to the reply")
			assert.Equal(t, len(g.PromptIDs), res.Stats.PromptTokens)
			assert.Equal(t, len(g.GreedyIDs), res.Stats.GeneratedTokens)
			assert.Equal(t, generate.StopMaxTokens, res.Stats.StopReason)
		})
	}
}

// coreutilsModelSHA256 is tiny-chat's model_sha256 as computed with
// coreutils by engine/audit/testdata/golden.sh.
func coreutilsModelSHA256(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "engine", "audit", "testdata", "golden.txt"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if sum, ok := strings.CutPrefix(line, "model:tiny-chat "); ok {
			return sum
		}
	}
	t.Fatal("golden.txt has no model:tiny-chat line")
	return ""
}

// A generation's audit names the model by the hash coreutils gives for its
// files, the prompt and the reply by transformers' ids and text, and the
// input by audit.Input over the prompt ids (what `loom verify --ids` hashes).
func TestAuditMatchesReferences(t *testing.T) {
	g := loadGolden(t)
	modelSum := coreutilsModelSHA256(t)
	for _, tc := range []struct {
		name string
		load func() (*Model, error)
	}{
		{"os folder", func() (*Model, error) { return Load(tinyChat, Options{}) }},
		{"fs.FS", func() (*Model, error) { return LoadFS(os.DirFS(tinyChat), "tiny-chat", Options{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.load()
			require.NoError(t, err)
			defer m.Close()
			_, res := run(t, m.NewSession(), greedy(g.Messages, len(g.GreedyIDs)))
			require.NoError(t, res.Err)
			a := res.Audit
			assert.Equal(t, modelSum, a.ModelSHA256)
			assert.Equal(t, g.PromptIDs, a.PromptIDs)
			assert.Equal(t, g.GreedyIDs, a.IDs)
			assert.Equal(t, g.GreedyText, a.Text)
			assert.Equal(t, audit.Input{IDs: g.PromptIDs, MaxTokens: len(g.GreedyIDs)}.SHA256(), a.InputSHA256)
			assert.Len(t, a.LogitsSHA256, 64)
		})
	}
}

func TestTokenizeDetokenize(t *testing.T) {
	g := loadGolden(t)
	m := loadTiny(t, Options{})
	assert.Equal(t, g.PromptIDs, m.Tokenize(g.PromptText), "transformers encodes the rendered prompt to these ids")
	text, err := m.Detokenize(g.GreedyIDs)
	require.NoError(t, err)
	assert.Equal(t, g.GreedyText, text, "transformers decodes the greedy ids to this text")
	for _, bad := range [][]int{{-1}, {1, g.VocabSize}} {
		_, err := m.Detokenize(bad)
		assert.ErrorIs(t, err, ErrTokenID, "%v", bad)
	}
}

// safetensorsElements counts the tensor elements listed in a safetensors
// header, read here independently of the engine's parser.
func safetensorsElements(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(data), 8)
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data[8:8+n], &header))
	var total int64
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct{ Shape []int64 }
		require.NoError(t, json.Unmarshal(raw, &info))
		size := int64(1)
		for _, d := range info.Shape {
			size *= d
		}
		total += size
	}
	return total
}

func TestInfo(t *testing.T) {
	m := loadTiny(t, Options{ContextLength: 512})
	info := m.Info()
	assert.Equal(t, Info{
		Arch:    "LlamaForCausalLM",
		Params:  safetensorsElements(t, filepath.Join(tinyChat, "model.safetensors")),
		Vocab:   32000,
		DType:   "BF16",
		Context: 512,
	}, info)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		dir  string
		want error
	}{
		{"missing folder", filepath.Join(dir, "nope"), ErrNoModel},
		{"no config.json", dir, ErrNoModel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.dir, Options{})
			assert.ErrorIs(t, err, tc.want)
			_, err = LoadFS(os.DirFS(tc.dir), tc.dir, Options{})
			if tc.name != "missing folder" {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

// A conversation continued in its own session (reusing the cache) and the
// same history replayed in a fresh session must give the same reply, with
// sampling and penalties on.
func TestContinuedEqualsRestored(t *testing.T) {
	m := loadTiny(t, Options{})
	sampling := sample.Options{Temperature: 0.9, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.3, PenaltyLastN: 8, Seed: 7}
	req := func(msgs []chat.Message) Request {
		return Request{Messages: msgs, UseChatTemplate: true, MaxTokens: 12, Sample: sampling}
	}
	history := []chat.Message{{Role: "system", Content: "You are a wizard."}, {Role: "user", Content: "Hello there"}}
	original := m.NewSession()
	_, first := run(t, original, req(history))
	require.NoError(t, first.Err)
	history = append(history, chat.Message{Role: "assistant", Content: first.Text}, chat.Message{Role: "user", Content: "Tell me more"})

	_, continued := run(t, original, req(history))
	require.NoError(t, continued.Err)
	assert.Less(t, continued.Stats.PromptTokens, len(m.Tokenize("Tell me more"))+40, "the second turn should feed only the new part")
	_, restored := run(t, m.NewSession(), req(history))
	require.NoError(t, restored.Err)
	assert.Equal(t, restored.Text, continued.Text)
	assert.NotEmpty(t, restored.Text)
	assert.Equal(t, restored.Audit, continued.Audit, "the audit covers the whole prompt, cached or not, and every logit")
}

func TestReusable(t *testing.T) {
	penalty := sample.Options{RepeatPenalty: 1.1, PenaltyLastN: 2}
	for _, tc := range []struct {
		name           string
		cached, prompt []int
		o              sample.Options
		want           int
	}{
		{"empty cache", nil, []int{1, 2, 3}, sample.Options{}, 0},
		{"extends the cache", []int{1, 2}, []int{1, 2, 3, 4}, sample.Options{}, 2},
		{"same prompt feeds one token", []int{1, 2, 3}, []int{1, 2, 3}, sample.Options{}, 2},
		{"diverges", []int{1, 2, 9, 9}, []int{1, 2, 3}, sample.Options{}, 2},
		{"penalty window is fed", []int{1, 2, 3, 4}, []int{1, 2, 3, 4, 5}, penalty, 3},
		{"penalty over the whole history", []int{1, 2, 3}, []int{1, 2, 3, 4}, sample.Options{FrequencyPenalty: 0.5}, 0},
		{"penalty of 1 is off", []int{1, 2, 3}, []int{1, 2, 3, 4}, sample.Options{RepeatPenalty: 1}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, reusable(tc.cached, tc.prompt, tc.o))
		})
	}
}

func TestTranscriptWithoutTemplate(t *testing.T) {
	msgs := []chat.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}, {Role: "assistant", Content: "Hello"}, {Role: "user", Content: "Bye"}}
	assert.Equal(t, "Be brief.\n\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:", transcript(msgs))

	m := loadTiny(t, Options{})
	ids, stops, err := m.prompt(Request{Messages: msgs, StopStrings: []string{"!"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"!", transcriptStop}, stops)
	bos := 1 // config.json bos_token_id
	assert.Equal(t, append([]int{bos}, m.Tokenize(transcript(msgs))...), ids, "BOS, then the transcript")
}

func TestPromptTooLong(t *testing.T) {
	m := loadTiny(t, Options{ContextLength: 8})
	_, res := run(t, m.NewSession(), greedy([]chat.Message{{Role: "user", Content: "a long enough message to overflow"}}, 4))
	assert.ErrorIs(t, res.Err, ErrPromptTooLong)
}

func TestCancelAndClose(t *testing.T) {
	m, err := Load(tinyChat, Options{})
	require.NoError(t, err)
	s := m.NewSession()
	j := s.Start(Request{Prompt: "Once upon a time", MaxTokens: 100000, Sample: sample.Options{Temperature: 1, Seed: 1}})
	// Wait for some text, then close the model under the running job:
	// Close must wait for it.
	deadline := time.Now().Add(time.Minute)
	for {
		if p, _ := j.Take(1); len(p) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no text streamed")
		time.Sleep(time.Millisecond)
	}
	m.Close()
	j.Cancel()
	select {
	case <-j.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled job did not end")
	}
	res := j.Result()
	assert.ErrorIs(t, res.Err, context.Canceled)
	assert.Equal(t, generate.StopCancelled, res.Stats.StopReason)
	assert.Zero(t, res.Audit, "a cancelled job has no audit")

	_, after := run(t, s, Request{Prompt: "x", MaxTokens: 1})
	assert.True(t, errors.Is(after.Err, ErrClosed), "a closed model takes no new jobs: %v", after.Err)
}

// Two sessions generating at once both stream, taking turns: by the time
// one has finished, the other has streamed too.
func TestParallelSessionsInterleave(t *testing.T) {
	m := loadTiny(t, Options{})
	r := Request{Prompt: "The wizard said", MaxTokens: 40, Sample: sample.Options{Temperature: 1, Seed: 3}}
	a, b := m.NewSession().Start(r), m.NewSession().Start(r)
	var first, other *Job
	select {
	case <-a.Done():
		first, other = a, b
	case <-b.Done():
		first, other = b, a
	case <-time.After(time.Minute):
		t.Fatal("generation did not finish")
	}
	require.NoError(t, first.Result().Err)
	pieces, _ := other.Take(0)
	assert.Greater(t, len(pieces), 10, "the other job streamed while the first ran")
	<-other.Done()
	require.NoError(t, other.Result().Err)
	assert.Equal(t, first.Result().Text, other.Result().Text, "same prompt and seed, same reply")
}

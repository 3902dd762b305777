package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loomBin is the binary built once by TestMain; the tests run it as a
// subprocess, exactly as scripts and CI use it.
var loomBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "loom-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	loomBin = filepath.Join(dir, "loom")
	build := exec.Command("go", "build", "-o", loomBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building loom:", err)
		return 1
	}
	return m.Run()
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// loom runs the binary with args and stdin.
func loom(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return loomEnv(t, nil, stdin, args...)
}

// loomEnv is loom with extra environment variables ("KEY=value").
func loomEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(loomBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{out.String(), errb.String(), code}
}

// requireOK fails the test unless r exited 0.
func requireOK(t *testing.T, r result) {
	t.Helper()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
}

// requireFailure checks the error contract: exit status code and exactly
// one line on stderr, never a Go panic or stack trace.
func requireFailure(t *testing.T, r result, code int) {
	t.Helper()
	require.Equal(t, code, r.code, "stdout: %q stderr: %q", r.stdout, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.True(t, strings.HasSuffix(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.NotContains(t, r.stderr, "goroutine")
	assert.NotContains(t, r.stderr, "panic")
}

// modelGolden is testdata/models/*/golden.json, written by
// ci/reference/make_models.py with transformers.
type modelGolden struct {
	PromptIDs       []int `json:"prompt_ids"`
	GreedyIDs       []int `json:"greedy_ids"`
	GreedyIDsUpcast []int `json:"greedy_ids_upcast"`
	VocabSize       int   `json:"vocab_size"`
}

// goldenModels returns the golden model folders.
func goldenModels(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../../testdata/models/*/golden.json")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

func readModelGolden(t *testing.T, dir string) modelGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	require.NoError(t, err)
	var g modelGolden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.PromptIDs)
	return g
}

func joinIDs(ids []int, sep string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, sep)
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, len(data)%4)
	v := make([]float32, len(data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v
}

// TestLogitsGolden compares `loom logits` with transformers' float32 logits
// (for 16-bit checkpoints, the same weights upcast to float32, which is what
// Loom computes).
func TestLogitsGolden(t *testing.T) {
	for _, dir := range goldenModels(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := readModelGolden(t, dir)
			want := filepath.Join(dir, "logits_upcast.f32")
			if _, err := os.Stat(want); err != nil {
				want = filepath.Join(dir, "logits.f32")
			}
			out := filepath.Join(t.TempDir(), "logits.f32")
			requireOK(t, loom(t, "", "logits", "--model", dir, "--ids", joinIDs(g.PromptIDs, ","), "--out", out))
			got, ref := readFloats(t, out), readFloats(t, want)
			require.Len(t, got, len(g.PromptIDs)*g.VocabSize)
			require.Len(t, ref, len(got))
			var worst float64
			for i := range got {
				worst = max(worst, math.Abs(float64(got[i])-float64(ref[i])))
			}
			assert.LessOrEqual(t, worst, 1e-4)
		})
	}
}

// TestGenerateGolden compares `loom generate --greedy` with transformers'
// greedy continuation.
func TestGenerateGolden(t *testing.T) {
	for _, dir := range goldenModels(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := readModelGolden(t, dir)
			want := g.GreedyIDs
			if g.GreedyIDsUpcast != nil {
				want = g.GreedyIDsUpcast
			}
			require.NotEmpty(t, want)
			r := loom(t, "", "generate", "--model", dir, "--ids", joinIDs(g.PromptIDs, ","),
				"--max-tokens", strconv.Itoa(len(want)), "--greedy")
			requireOK(t, r)
			assert.Equal(t, joinIDs(want, " ")+"\n", r.stdout)
		})
	}
}

// tinyChat is the golden model with a tokenizer and a chat template.
const tinyChat = "../../testdata/models/tiny-chat"

// tinyChatGolden is the part of tiny-chat's golden.json about its chat
// prompt and greedy reply.
type tinyChatGolden struct {
	Messages   json.RawMessage `json:"messages"`
	PromptText string          `json:"prompt_text"`
	PromptIDs  []int           `json:"prompt_ids"`
	GreedyText string          `json:"greedy_text"`
	GreedyIDs  []int           `json:"greedy_ids"`
}

func readTinyChat(t *testing.T) tinyChatGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tinyChat, "golden.json"))
	require.NoError(t, err)
	var g tinyChatGolden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.GreedyText)
	return g
}

// TestRunChat runs the whole pipeline (chat template, tokenizer, model,
// sampler, stream decoder) on tiny-chat and compares the reply with
// transformers' greedy generation from the same conversation.
func TestRunChat(t *testing.T) {
	g := readTinyChat(t)
	var msgs []struct{ Role, Content string }
	require.NoError(t, json.Unmarshal(g.Messages, &msgs))
	require.Len(t, msgs, 1)
	require.Equal(t, "user", msgs[0].Role)

	// Flags after the positional arguments, as people type them.
	r := loom(t, "", "run", tinyChat, msgs[0].Content, "--chat", "--temp", "0",
		"--max-tokens", strconv.Itoa(len(g.GreedyIDs)))
	requireOK(t, r)
	assert.Equal(t, g.GreedyText, r.stdout)
	assert.Regexp(t, `^loom: prompt \d+ tokens, [0-9.]+ tok/s; generated \d+ tokens, [0-9.]+ tok/s; stop: max_tokens\n$`, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("prompt %d tokens", len(g.PromptIDs)))
}

// TestRunSampling checks that sampling runs, stops at --max-tokens and
// gives the same text for the same seed.
func TestRunSampling(t *testing.T) {
	args := []string{"run", "--temp", "1.2", "--top-k", "0", "--top-p", "0.9", "--seed", "7",
		"--max-tokens", "12", tinyChat, "Once upon a time"}
	a := loom(t, "", args...)
	requireOK(t, a)
	assert.Contains(t, a.stderr, "generated 12 tokens")
	b := loom(t, "", args...)
	requireOK(t, b)
	assert.Equal(t, a.stdout, b.stdout)
}

func TestChatTemplateTinyChat(t *testing.T) {
	g := readTinyChat(t)
	r := loom(t, string(g.Messages), "chat-template", "--model", tinyChat)
	requireOK(t, r)
	assert.Equal(t, g.PromptText, r.stdout)
}

// chatGolden is engine/chat/testdata/golden.json, written by
// ci/reference/chat_golden.py with transformers' apply_chat_template.
type chatGolden struct {
	Templates map[string]struct {
		ChatTemplate string  `json:"chat_template"`
		BOSToken     *string `json:"bos_token"`
		EOSToken     *string `json:"eos_token"`
	} `json:"templates"`
	Conversations map[string]json.RawMessage `json:"conversations"`
	Cases         []struct {
		Template            string  `json:"template"`
		Conversation        string  `json:"conversation"`
		AddGenerationPrompt bool    `json:"add_generation_prompt"`
		Rendered            *string `json:"rendered"`
		Error               *string `json:"error"`
	} `json:"cases"`
}

// TestChatTemplateGolden runs `loom chat-template` on the engine/chat
// goldens whose tokens match a tokenizer in the repository: qwen3's own
// files, and the <s>/</s> templates with tiny-chat's tokenizer.json.
func TestChatTemplateGolden(t *testing.T) {
	data, err := os.ReadFile("../../engine/chat/testdata/golden.json")
	require.NoError(t, err)
	var g chatGolden
	require.NoError(t, json.Unmarshal(data, &g))

	dirs := map[string]string{"qwen3": unpackTokenizer(t, "qwen3")}
	ran := 0
	for _, c := range g.Cases {
		tpl := g.Templates[c.Template]
		if !c.AddGenerationPrompt {
			continue // the CLI always adds the generation prompt
		}
		dir, ok := dirs[c.Template]
		if !ok {
			if tpl.BOSToken == nil || *tpl.BOSToken != "<s>" || tpl.EOSToken == nil || *tpl.EOSToken != "</s>" {
				continue // no tokenizer in the repository has these tokens
			}
			dir = tinyChatWithTemplate(t, tpl.ChatTemplate)
			dirs[c.Template] = dir
		}
		t.Run(c.Template+"/"+c.Conversation, func(t *testing.T) {
			r := loom(t, string(g.Conversations[c.Conversation]), "chat-template", "--model", dir)
			if c.Error != nil {
				requireFailure(t, r, 1)
				assert.Contains(t, r.stderr, *c.Error)
				return
			}
			requireOK(t, r)
			require.NotNil(t, c.Rendered)
			assert.Equal(t, *c.Rendered, r.stdout)
		})
		ran++
	}
	assert.Greater(t, ran, 50)
}

// tinyChatWithTemplate returns a folder with tiny-chat's tokenizer.json and
// its tokenizer_config.json with chat_template replaced.
func tinyChatWithTemplate(t *testing.T, template string) string {
	t.Helper()
	dir := t.TempDir()
	tj, err := os.ReadFile(filepath.Join(tinyChat, "tokenizer.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644))
	data, err := os.ReadFile(filepath.Join(tinyChat, "tokenizer_config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(data, &cfg))
	cfg["chat_template"] = template
	data, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), data, 0o644))
	return dir
}

// unpackTokenizer returns a folder holding the tokenizer helper's committed
// engine/tokenizer/testdata/NAME files, tokenizer.json unzipped.
func unpackTokenizer(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("../../engine/tokenizer/testdata", name)
	dir := t.TempDir()
	f, err := os.Open(filepath.Join(src, "tokenizer.json.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644))
	cfg, err := os.ReadFile(filepath.Join(src, "tokenizer_config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644))
	return dir
}

// tokenizerGolden is engine/tokenizer/testdata/NAME/expected.json, written
// by the tokenizer helper's reference script with Hugging Face tokenizers.
type tokenizerGolden struct {
	Cases []struct {
		Text       string `json:"text"`
		IDs        []int  `json:"ids"`
		IDsSpecial []int  `json:"ids_special"`
		Decoded    string `json:"decoded"`
	} `json:"cases"`
}

// TestTokenizeGolden runs `loom tokenize` and `loom detokenize` on the
// tokenizer goldens committed with their tokenizer.json.
func TestTokenizeGolden(t *testing.T) {
	for _, name := range []string{"llama2", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			dir := unpackTokenizer(t, name)
			file := filepath.Join(dir, "tokenizer.json")
			data, err := os.ReadFile(filepath.Join("../../engine/tokenizer/testdata", name, "expected.json"))
			require.NoError(t, err)
			var g tokenizerGolden
			require.NoError(t, json.Unmarshal(data, &g))
			require.NotEmpty(t, g.Cases)

			// Texts without a newline go through --lines in one run each
			// for add_special_tokens False and True.
			var lines []string
			var want, wantSpecial []string
			for _, c := range g.Cases {
				if strings.Contains(c.Text, "\n") {
					r := loom(t, c.Text, "tokenize", "--tokenizer", file)
					requireOK(t, r)
					assert.Equal(t, joinIDs(c.IDs, " ")+"\n", r.stdout, "%q", c.Text)
					continue
				}
				lines = append(lines, c.Text)
				want = append(want, joinIDs(c.IDs, " "))
				wantSpecial = append(wantSpecial, joinIDs(c.IDsSpecial, " "))
			}
			require.NotEmpty(t, lines)
			input := strings.Join(lines, "\n") + "\n"
			r := loom(t, input, "tokenize", "--tokenizer", file, "--lines")
			requireOK(t, r)
			assert.Equal(t, want, strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"))
			r = loom(t, input, "tokenize", "--tokenizer", file, "--lines", "--add-special")
			requireOK(t, r)
			assert.Equal(t, wantSpecial, strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"))

			// Detokenize a spread of cases (each run loads the tokenizer).
			for i := 0; i < len(g.Cases); i += 7 {
				c := g.Cases[i]
				r := loom(t, joinIDs(c.IDs, " "), "detokenize", "--tokenizer", file)
				requireOK(t, r)
				assert.Equal(t, c.Decoded, r.stdout, "%q", c.Text)
			}
		})
	}
}

// TestErrors checks the error contract: bad input exits 1 and wrong usage
// 2, each with one line on stderr and never a panic.
func TestErrors(t *testing.T) {
	corrupt := t.TempDir()
	for _, f := range []string{"config.json", "generation_config.json"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/models/llama-tied", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(corrupt, f), data, 0o644))
	}
	// A header length far larger than the file.
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "model.safetensors"),
		append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, []byte("{}")...), 0o644))
	truncated := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/models/llama-tied", f))
		require.NoError(t, err)
		if f == "model.safetensors" {
			data = data[:len(data)/2]
		}
		require.NoError(t, os.WriteFile(filepath.Join(truncated, f), data, 0o644))
	}
	out := filepath.Join(t.TempDir(), "out.f32")
	tok := filepath.Join(tinyChat, "tokenizer.json")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"no command", "", nil, 2},
		{"unknown command", "", []string{"frobnicate"}, 2},
		{"unknown flag", "", []string{"logits", "--frobnicate"}, 2},
		{"missing flag", "", []string{"logits", "--model", tinyChat}, 2},
		{"bad ids", "", []string{"logits", "--model", tinyChat, "--ids", "1,x", "--out", out}, 2},
		{"stray argument", "", []string{"generate", "--model", tinyChat, "--ids", "1", "extra"}, 2},
		{"run wants two arguments", "", []string{"run", tinyChat}, 2},
		{"system without chat", "", []string{"run", tinyChat, "hi", "--system", "x"}, 2},
		{"top-p out of range", "", []string{"run", tinyChat, "hi", "--top-p", "2"}, 2},
		{"missing model dir", "", []string{"logits", "--model", "/nonexistent/model", "--ids", "1", "--out", out}, 1},
		{"corrupt safetensors", "", []string{"logits", "--model", corrupt, "--ids", "1,2", "--out", out}, 1},
		{"truncated safetensors", "", []string{"generate", "--model", truncated, "--ids", "1,2"}, 1},
		{"id outside the vocabulary", "", []string{"generate", "--model", tinyChat, "--ids", "1,99999999"}, 1},
		{"unwritable output", "", []string{"logits", "--model", tinyChat, "--ids", "1", "--out", "/nonexistent/dir/x.f32"}, 1},
		{"missing tokenizer", "", []string{"tokenize", "--tokenizer", "/nonexistent/tokenizer.json"}, 1},
		{"invalid UTF-8", "a\xffb", []string{"tokenize", "--tokenizer", tok}, 1},
		{"detokenize id out of range", "1 2 99999999", []string{"detokenize", "--tokenizer", tok}, 1},
		{"detokenize junk", "1 two", []string{"detokenize", "--tokenizer", tok}, 1},
		{"chat-template bad JSON", "[{", []string{"chat-template", "--model", tinyChat}, 1},
		{"chat-template not messages", `{"role": "user"}`, []string{"chat-template", "--model", tinyChat}, 1},
		{"chat-template extra field", `[{"role": "user", "content": "x", "x": 1}]`, []string{"chat-template", "--model", tinyChat}, 1},
		{"chat-template null content", `[{"role": "user", "content": null}]`, []string{"chat-template", "--model", tinyChat}, 1},
		{"chat-template without template", `[{"role": "user", "content": "x"}]`, []string{"chat-template", "--model", unpackTokenizer(t, "llama2")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loom(t, tt.stdin, tt.args...)
			requireFailure(t, r, tt.code)
		})
	}
	_, err := os.Stat(out)
	assert.True(t, errors.Is(err, os.ErrNotExist), "no partial output file")
}

func TestHelp(t *testing.T) {
	r := loom(t, "", "help")
	requireOK(t, r)
	for _, c := range commands {
		assert.Contains(t, r.stdout, c.name)
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, args := range [][]string{{c.name, "-h"}, {"help", c.name}} {
				r := loom(t, "", args...)
				requireOK(t, r)
				assert.True(t, strings.HasPrefix(r.stdout, "usage: loom "+c.name), r.stdout)
				assert.Empty(t, r.stderr)
			}
		})
	}
}

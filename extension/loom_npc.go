package main

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/extension/dialogue"
	"github.com/loomai/loom/extension/gd"
)

// Sampling defaults of a new LoomNPC (llama.cpp's, with a mild repeat
// penalty over the last 64 tokens, which small models need).
const (
	defaultMaxTokens     = 128
	defaultTemperature   = 0.8
	defaultTopK          = 40
	defaultTopP          = 0.95
	defaultMinP          = 0.05
	defaultRepeatPenalty = 1.1
	penaltyLastN         = 64
)

// loomNPC is the Go side of a LoomNPC node: settings, the conversation and
// the generation in progress. Nodes are used from the main thread only.
type loomNPC struct {
	owner gd.Object
	freed bool

	modelRef *gd.Variant // holds a reference to the LoomModel resource; nil when unset
	model    *loomModel

	systemPrompt    string
	maxTokens       int64
	temperature     float64
	topK            int64
	topP, minP      float64
	repeatPenalty   float64
	seed            int64
	stopStrings     []string
	useChatTemplate bool

	history []chat.Message
	session *dialogue.Session

	job      *dialogue.Job
	userTurn *string // the user's line of the say() in progress; nil for generate()
	reply    strings.Builder
	events   []event
	audit    *dialogue.Audit // of the last generation that ended on its own; nil if none
}

func newLoomNPC(owner gd.Object) gd.Instance {
	return &loomNPC{
		owner: owner, maxTokens: defaultMaxTokens, temperature: defaultTemperature, topK: defaultTopK,
		topP: defaultTopP, minP: defaultMinP, repeatPenalty: defaultRepeatPenalty, seed: -1, useChatTemplate: true,
	}
}

func npcClass() *gd.Class {
	self := func(i gd.Instance) *loomNPC { return i.(*loomNPC) }
	errReturn := &gd.Param{Type: gd.TypeInt, Class: "Error"}
	float := func(name, hint string, field func(*loomNPC) *float64) gd.Property {
		return gd.Property{
			Param: gd.Param{Name: name, Type: gd.TypeFloat, Hint: gd.HintRange, HintString: hint},
			Get:   func(i gd.Instance) any { return *field(self(i)) },
			Set:   func(i gd.Instance, v any) { *field(self(i)) = v.(float64) },
		}
	}
	integer := func(name, hint string, field func(*loomNPC) *int64) gd.Property {
		return gd.Property{
			Param: gd.Param{Name: name, Type: gd.TypeInt, Hint: gd.HintRange, HintString: hint},
			Get:   func(i gd.Instance) any { return *field(self(i)) },
			Set:   func(i gd.Instance, v any) { *field(self(i)) = v.(int64) },
		}
	}
	return &gd.Class{
		Name: "LoomNPC", Parent: "Node", New: newLoomNPC,
		Properties: []gd.Property{
			{
				Param: gd.Param{Name: "model", Type: gd.TypeObject, Class: "LoomModel", Hint: gd.HintResourceType, HintString: "LoomModel"},
				Get:   func(i gd.Instance) any { return self(i).modelObject() },
				Set:   func(i gd.Instance, v any) { self(i).setModel(v.(gd.Object)) },
			},
			{
				Param: gd.Param{Name: "system_prompt", Type: gd.TypeString, Hint: gd.HintMultiline},
				Get:   func(i gd.Instance) any { return self(i).systemPrompt },
				Set:   func(i gd.Instance, v any) { self(i).systemPrompt = v.(string) },
			},
			integer("max_tokens", "1,4096,1,or_greater", func(n *loomNPC) *int64 { return &n.maxTokens }),
			float("temperature", "0,2,0.01,or_greater", func(n *loomNPC) *float64 { return &n.temperature }),
			integer("top_k", "0,200,1,or_greater", func(n *loomNPC) *int64 { return &n.topK }),
			float("top_p", "0,1,0.01", func(n *loomNPC) *float64 { return &n.topP }),
			float("min_p", "0,1,0.01", func(n *loomNPC) *float64 { return &n.minP }),
			float("repeat_penalty", "0,2,0.01,or_greater", func(n *loomNPC) *float64 { return &n.repeatPenalty }),
			integer("seed", "-1,2147483647,1,or_greater", func(n *loomNPC) *int64 { return &n.seed }),
			{
				Param: gd.Param{Name: "stop_strings", Type: gd.TypePackedStringArray},
				Get:   func(i gd.Instance) any { return self(i).stopStrings },
				Set:   func(i gd.Instance, v any) { self(i).stopStrings = v.([]string) },
			},
			{
				Param: gd.Param{Name: "use_chat_template", Type: gd.TypeBool},
				Get:   func(i gd.Instance) any { return self(i).useChatTemplate },
				Set:   func(i gd.Instance, v any) { self(i).useChatTemplate = v.(bool) },
			},
		},
		Methods: []gd.Method{
			{
				Name: "say", Args: []gd.Param{{Name: "text", Type: gd.TypeString}}, Return: errReturn,
				Fn: func(i gd.Instance, a gd.Args) any { text := a.String(0); return self(i).start(&text, "") },
			},
			{
				Name: "generate", Args: []gd.Param{{Name: "prompt", Type: gd.TypeString}}, Return: errReturn,
				Fn: func(i gd.Instance, a gd.Args) any { return self(i).start(nil, a.String(0)) },
			},
			{Name: "stop", Fn: func(i gd.Instance, _ gd.Args) any { self(i).stop(); return nil }},
			{Name: "is_generating", Return: &gd.Param{Type: gd.TypeBool}, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).job != nil }},
			{Name: "get_history", Return: &gd.Param{Type: gd.TypeArray}, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).getHistory() }},
			{
				Name: "set_history", Args: []gd.Param{{Name: "history", Type: gd.TypeArray}}, Return: errReturn,
				Fn: func(i gd.Instance, a gd.Args) any { return self(i).setHistory(a.Array(0)) },
			},
			{Name: "clear_history", Fn: func(i gd.Instance, _ gd.Args) any { self(i).history = nil; return nil }},
			{Name: "get_last_audit", Return: &gd.Param{Type: gd.TypeDictionary}, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).lastAudit() }},
		},
		Signals: []gd.Signal{
			{Name: "generation_started"},
			{Name: "token", Args: []gd.Param{{Name: "text", Type: gd.TypeString}}},
			{Name: "reply_finished", Args: []gd.Param{{Name: "text", Type: gd.TypeString}}},
			{Name: "generation_failed", Args: []gd.Param{{Name: "message", Type: gd.TypeString}}},
		},
	}
}

// Free runs when the node is freed, possibly mid-generation: the job is
// cancelled and ends on its own within a token; its output is dropped.
func (n *loomNPC) Free() {
	n.freed = true
	if n.job != nil {
		n.job.Cancel()
		n.job = nil
	}
	n.setRef(nil, nil)
}

// setRef replaces the model reference, releasing the old one.
func (n *loomNPC) setRef(ref *gd.Variant, m *loomModel) {
	if n.modelRef != nil {
		n.modelRef.Destroy()
	}
	n.modelRef, n.model = ref, m
}

func (n *loomNPC) modelObject() gd.Object {
	if n.model == nil {
		return 0
	}
	return n.model.owner
}

func (n *loomNPC) setModel(obj gd.Object) {
	var m *loomModel
	if obj != 0 {
		var ok bool
		if m, ok = gd.InstanceOf(obj).(*loomModel); !ok {
			gd.PrintError("LoomNPC.model", "model must be a LoomModel")
			return
		}
	}
	ref, err := gd.NewVariant(obj)
	if err != nil {
		gd.PrintError("LoomNPC.model", err.Error())
		return
	}
	n.setRef(ref, m)
}

// fail reports a generation that could not start or failed.
func (n *loomNPC) fail(code int, where, msg string) int {
	gd.PrintError(where, msg)
	n.events = append(n.events, event{"generation_failed", []any{msg}})
	wake(n)
	return code
}

// sampling turns the NPC's settings into sampler options.
func (n *loomNPC) sampling() (sample.Options, error) {
	seed := uint64(n.seed)
	if n.seed < 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return sample.Options{}, err
		}
		// 63 bits, so that the seed get_last_audit reports fits the seed
		// property and repeats the reply.
		seed = binary.LittleEndian.Uint64(b[:]) >> 1
	}
	o := sample.Options{
		Temperature: float32(n.temperature), TopK: int(max(0, min(n.topK, 1<<30))), TopP: float32(n.topP), MinP: float32(n.minP),
		RepeatPenalty: float32(n.repeatPenalty), PenaltyLastN: penaltyLastN, Seed: seed,
	}
	return o, o.Validate()
}

// start begins say(user) (user != nil) or generate(prompt).
func (n *loomNPC) start(user *string, prompt string) int {
	where := "LoomNPC.generate"
	if user != nil {
		where = "LoomNPC.say"
	}
	if n.job != nil {
		return n.fail(errBusy, where, "already generating: wait for reply_finished or call stop()")
	}
	if n.model == nil {
		return n.fail(errUnconfigured, where, "no model: set the model property to a LoomModel")
	}
	m := n.model.current()
	if m == nil {
		return n.fail(errUnconfigured, where, "the model is not loaded: call load() on the LoomModel and wait for loaded")
	}
	if n.maxTokens <= 0 {
		return n.fail(errInvalidParameter, where, fmt.Sprintf("max_tokens is %d; it must be positive", n.maxTokens))
	}
	if slices.Contains(n.stopStrings, "") {
		return n.fail(errInvalidParameter, where, "stop_strings contains an empty string")
	}
	o, err := n.sampling()
	if err != nil {
		return n.fail(errInvalidParameter, where, err.Error())
	}
	r := dialogue.Request{Prompt: prompt, UseChatTemplate: n.useChatTemplate, MaxTokens: int(n.maxTokens), StopStrings: n.stopStrings, Sample: o}
	if user != nil {
		if n.systemPrompt != "" {
			r.Messages = append(r.Messages, chat.Message{Role: "system", Content: n.systemPrompt})
		}
		r.Messages = append(r.Messages, n.history...)
		r.Messages = append(r.Messages, chat.Message{Role: "user", Content: *user})
	}
	if n.session == nil || n.session.Model() != m {
		n.session = m.NewSession()
	}
	n.job = n.session.Start(r)
	n.audit = nil
	n.userTurn = user
	n.reply.Reset()
	n.events = append(n.events, event{signal: "generation_started"})
	wake(n)
	return errOK
}

// stop ends the generation now: no token signal follows, and
// reply_finished reports the text streamed so far, which becomes the
// assistant's turn of a say().
func (n *loomNPC) stop() {
	if n.job == nil {
		return
	}
	n.job.Cancel()
	n.finish(nil)
}

// finish closes the turn: history for say(), then reply_finished, or
// generation_failed when err is set (the history is then unchanged).
func (n *loomNPC) finish(err error) {
	n.job = nil
	if err != nil {
		n.events = append(n.events, event{"generation_failed", []any{err.Error()}})
	} else {
		text := n.reply.String()
		if n.userTurn != nil {
			n.history = append(n.history, chat.Message{Role: "user", Content: *n.userTurn}, chat.Message{Role: "assistant", Content: text})
		}
		n.events = append(n.events, event{"reply_finished", []any{text}})
	}
	n.userTurn = nil
	wake(n)
}

// tick emits what is pending: queued events first, then up to
// maxTokensPerFrame tokens, then the end of the reply. Handlers may free
// the node, stop it or start a new reply; each emit is followed by a check.
func (n *loomNPC) tick() bool {
	for len(n.events) > 0 {
		if n.freed {
			return false
		}
		e := n.events[0]
		n.events = n.events[1:]
		emit(n.owner, e)
	}
	job := n.job
	if n.freed || job == nil {
		return false
	}
	pieces, over := job.Take(maxTokensPerFrame)
	for _, p := range pieces {
		n.reply.WriteString(p)
		emit(n.owner, event{"token", []any{p}})
		if n.freed || n.job != job {
			return !n.freed
		}
	}
	if over {
		res := job.Result()
		err := res.Err
		if err != nil {
			gd.PrintError("LoomNPC", err.Error())
		} else {
			n.audit = &res.Audit
		}
		n.finish(err)
		return true
	}
	return true
}

// getHistory returns the conversation as an Array of {role, content}.
func (n *loomNPC) getHistory() []any {
	out := make([]any, len(n.history))
	for i, m := range n.history {
		out[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	return out
}

// errBadHistory describes what set_history accepts.
var errBadHistory = errors.New(`history must be an Array of Dictionaries {"role": String, "content": String}`)

func (n *loomNPC) setHistory(items []any) int {
	if n.job != nil {
		gd.PrintError("LoomNPC.set_history", "cannot change the history while generating")
		return errBusy
	}
	msgs := make([]chat.Message, len(items))
	for i, item := range items {
		d, ok := item.(map[string]any)
		role, okRole := d["role"].(string)
		content, okContent := d["content"].(string)
		if !ok || !okRole || !okContent {
			gd.PrintError("LoomNPC.set_history", fmt.Sprintf("element %d: %v", i, errBadHistory))
			return errInvalidParameter
		}
		msgs[i] = chat.Message{Role: role, Content: content}
	}
	n.history = msgs
	return errOK
}

// lastAudit describes the last generation that ended on its own (not
// stopped, not failed) for get_last_audit(); empty when there is none.
func (n *loomNPC) lastAudit() map[string]any {
	a := n.audit
	if a == nil {
		return map[string]any{}
	}
	return map[string]any{
		"model_sha256": a.ModelSHA256, "input_sha256": a.InputSHA256, "ids": a.IDs,
		"logits_sha256": a.LogitsSHA256, "text": a.Text, "prompt_ids": a.PromptIDs, "seed": int64(a.Seed),
	}
}

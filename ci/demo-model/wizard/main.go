// Command wizard turns freely distributable texts that Debian packages
// (fortune cookies, Proverbs and Ecclesiastes from the King James Version,
// John Richards' public-domain Dhammapada translation) into ChatML conversations in which
// a player asks a wise old wizard something and the wizard answers in
// character, with the text as his answer. It writes one JSON conversation
// per line, {"messages": [{"role": "user", ...}, {"role": "assistant",
// ...}]}, the input of `loom train --chat`.
//
// The player lines and the wizard's openers, asides and greetings are
// template lines written for this demo; every answer's substance is a
// source text, unchanged apart from whitespace, with its attribution, if
// any, turned into a sentence. The output depends only on the inputs and
// --seed.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/loomai/loom/engine/sample"
)

func main() {
	fortunes := flag.String("fortunes", "", "fortune directory (usr/share/games/fortunes)")
	kjv := flag.String("kjv", "", "text of the KJV wisdom books as the bible program prints them")
	dhamma := flag.String("dhammapada", "", "dhammapada-english-transl.txt")
	out := flag.String("out", "", "output JSONL file")
	seed := flag.Uint64("seed", 1, "seed of every random choice")
	flag.Parse()
	if *fortunes == "" || *kjv == "" || *dhamma == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: wizard --fortunes DIR --kjv FILE --dhammapada FILE --out FILE [--seed N]")
		os.Exit(2)
	}
	if err := run(*fortunes, *kjv, *dhamma, *out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "wizard:", err)
		os.Exit(1)
	}
}

// exchange is one player line and the wizard's answer.
type exchange struct{ user, wizard string }

// answer is a source text before it is dressed as a reply.
type answer struct {
	topic  string // selects the player's questions
	text   string
	author string // "" when unattributed
}

func run(fortuneDir, kjvFile, dhammaFile, outFile string, seed uint64) error {
	var answers []answer
	var direct []exchange // source texts that are already a question and answer
	fa, fq, err := readFortunes(fortuneDir)
	if err != nil {
		return err
	}
	answers = append(answers, fa...)
	direct = append(direct, fq...)
	ka, err := readKJV(kjvFile)
	if err != nil {
		return err
	}
	answers = append(answers, ka...)
	da, err := readDhammapada(dhammaFile)
	if err != nil {
		return err
	}
	answers = append(answers, da...)

	rng := sample.NewRNG(seed)
	pick := func(list []string) string { return list[rng.Uint64()%uint64(len(list))] }
	chance := func(p float64) bool { return float64(rng.Uint64()>>11)/(1<<53) < p }

	var ex []exchange
	for _, a := range answers {
		qs := questions[a.topic]
		if len(qs) == 0 || chance(0.25) {
			qs = generalQuestions
		}
		reply := a.text
		if a.author != "" {
			reply += " " + strings.ReplaceAll(pick(attributions), "%s", a.author)
		}
		if chance(0.55) {
			reply = pick(openers) + " " + reply
		}
		if chance(0.12) {
			reply += " " + pick(closers)
		}
		ex = append(ex, exchange{pick(qs), reply})
	}
	for _, d := range direct {
		ex = append(ex, exchange{d.user, pick(riddleOpeners) + " " + d.wizard})
	}
	// Shuffle (Fisher-Yates), then group into conversations of two to
	// four exchanges (the template's system prompt starts each one, so
	// longer conversations spend fewer tokens on it), some opened by a greeting or a question about the
	// wizard himself and some closed by a farewell.
	for i := len(ex) - 1; i > 0; i-- {
		j := int(rng.Uint64() % uint64(i+1))
		ex[i], ex[j] = ex[j], ex[i]
	}
	f, err := os.Create(outFile)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	convs := 0
	for i := 0; i < len(ex); {
		n := 2 + int(rng.Uint64()%3)
		var turns []exchange
		if chance(0.2) {
			turns = append(turns, greetings[rng.Uint64()%uint64(len(greetings))])
		}
		if chance(0.08) {
			turns = append(turns, identity[rng.Uint64()%uint64(len(identity))])
		}
		for ; n > 0 && i < len(ex); n-- {
			turns = append(turns, ex[i])
			i++
		}
		if chance(0.1) {
			turns = append(turns, farewells[rng.Uint64()%uint64(len(farewells))])
		}
		type msg struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}
		var msgs []msg
		for _, t := range turns {
			msgs = append(msgs, msg{"user", t.user}, msg{"assistant", t.wizard})
		}
		if err := enc.Encode(map[string][]msg{"messages": msgs}); err != nil {
			return err
		}
		convs++
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wizard: %d answers, %d riddles, %d conversations\n", len(answers), len(direct), convs)
	return nil
}

// fortuneTopics are the fortune files used and the topic each gives. Files
// of computer in-jokes, chat logs, headlines, ASCII art and the ones whose
// humour is at someone's expense are left out.
var fortuneTopics = map[string]string{
	"wisdom": "wisdom", "platitudes": "wisdom", "tao": "way", "fortunes": "fortune", "cookie": "fortune",
	"literature": "books", "love": "love", "work": "work", "food": "food", "pets": "beasts",
	"kids": "children", "education": "learning", "science": "nature", "magic": "magic",
	"medicine": "health", "law": "law", "sports": "games", "songs-poems": "song", "humorists": "jest",
	"people": "people", "goedel": "paradox", "paradoxum": "paradox", "miscellaneous": "general",
	"riddles": "riddle",
}

// A fortune is dropped when it holds any of these (markup, addresses,
// code, transcripts) or is mostly not letters.
var fortuneJunk = regexp.MustCompile(`https?:|www\.|@|[<>{}|\\#$^~_*=]|\t[A-Za-z]+:\t`)

// attributionLine is a fortune's "-- Author" line.
var attributionLine = regexp.MustCompile(`^\s*--\s*(.+?)\s*$`)

func readFortunes(dir string) ([]answer, []exchange, error) {
	names := make([]string, 0, len(fortuneTopics))
	for name := range fortuneTopics {
		names = append(names, name)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	var answers []answer
	var direct []exchange
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		if !utf8.Valid(data) {
			return nil, nil, fmt.Errorf("%s is not UTF-8", name)
		}
		for _, entry := range strings.Split(string(data), "\n%\n") {
			entry = strings.Trim(entry, "%\n")
			if q, a, ok := questionAnswer(entry); ok {
				if !seen[q] {
					seen[q] = true
					direct = append(direct, exchange{q, a})
				}
				continue
			}
			text, author, ok := cleanFortune(entry)
			if !ok || seen[text] {
				continue
			}
			seen[text] = true
			answers = append(answers, answer{topic: fortuneTopics[name], text: text, author: author})
		}
	}
	return answers, direct, nil
}

// questionAnswer recognises a fortune of the form "Q: ... A: ..." (the
// question first): the player asks the question, the wizard answers.
func questionAnswer(entry string) (string, string, bool) {
	q, rest, ok := strings.Cut(entry, "A:")
	if !ok || !strings.HasPrefix(strings.TrimSpace(q), "Q:") {
		return "", "", false
	}
	q = oneLine(strings.TrimPrefix(strings.TrimSpace(q), "Q:"))
	a := oneLine(rest)
	if q == "" || a == "" || len(q)+len(a) > 300 || fortuneJunk.MatchString(q+a) {
		return "", "", false
	}
	return q, a, true
}

// cleanFortune returns a fortune's text and attribution, or false for one
// that does not suit the wizard (too long, too short, junk).
func cleanFortune(entry string) (string, string, bool) {
	lines := strings.Split(strings.TrimRight(entry, "\n"), "\n")
	author := ""
	if m := attributionLine.FindStringSubmatch(lines[len(lines)-1]); m != nil && len(lines) > 1 {
		author = strings.TrimSpace(m[1])
		lines = lines[:len(lines)-1]
		if len(author) > 40 || fortuneJunk.MatchString(author) {
			author = ""
		}
	}
	// A title line (as in "tao") followed by a blank line is dropped.
	if len(lines) > 2 && strings.TrimSpace(lines[1]) == "" && len(lines[0]) < 30 && !strings.ContainsAny(lines[0], ".,;:!?") {
		lines = lines[2:]
	}
	body := strings.Join(lines, "\n")
	if fortuneJunk.MatchString(body) || strings.Contains(body, "   ") && strings.Count(body, "\n") > 2 {
		return "", "", false
	}
	poem := len(lines) >= 3
	for _, l := range lines {
		if len(strings.TrimSpace(l)) > 45 {
			poem = false
		}
	}
	var text string
	if poem {
		var kept []string
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				kept = append(kept, l)
			}
		}
		text = strings.Join(kept, "\n")
	} else {
		text = oneLine(body)
	}
	letters, other := 0, 0
	for _, r := range text {
		switch {
		case unicode.IsLetter(r):
			letters++
		case !unicode.IsSpace(r):
			other++
		}
	}
	if len(text) < 20 || len(text) > 400 || letters < 4*other {
		return "", "", false
	}
	return text, author, true
}

// oneLine joins text's lines and collapses runs of whitespace.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// kjvTopics gives each book's topic and how many verses make one answer:
// the two wisdom books whose sayings stand on their own.
var kjvTopics = map[string]struct {
	topic  string
	verses int
}{
	"Proverbs": {"proverb", 1}, "Ecclesiastes": {"vanity", 2},
}

var kjvVerse = regexp.MustCompile(`^\s+(\d+) (.*)$`)

// readKJV parses the bible program's output: "Book N" chapter headings,
// then verses "  N text" whose long lines wrap without indentation.
func readKJV(path string) ([]answer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var answers []answer
	book := ""
	var verses []string
	flush := func() {
		spec, ok := kjvTopics[book]
		for i := 0; ok && i < len(verses); i += spec.verses {
			answers = append(answers, answer{topic: spec.topic, text: strings.Join(verses[i:min(i+spec.verses, len(verses))], " ")})
		}
		verses = nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m := kjvVerse.FindStringSubmatch(line); m != nil {
			verses = append(verses, oneLine(m[2]))
			continue
		}
		if b, _, ok := strings.Cut(strings.TrimSpace(line), " "); ok && kjvTopics[b].topic != "" {
			flush()
			book = b
			continue
		}
		if t := strings.TrimSpace(line); t != "" && len(verses) > 0 {
			verses[len(verses)-1] += " " + oneLine(t)
		}
	}
	flush()
	if len(answers) == 0 {
		return nil, errors.New("no KJV verses found")
	}
	return answers, nil
}

var dhammaChapter = regexp.MustCompile(`^(\d+)\. ([A-Z][A-Za-z ]+)$`)
var verseNumber = regexp.MustCompile(`\s*\d+(-\d+)?\s*$`)

// readDhammapada returns the verses of Richards' translation, each with
// its chapter's topic.
func readDhammapada(path string) ([]answer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(data), "\r", "")
	start := strings.Index(text, "\n1. The Pairs")
	end := strings.Index(text, "The End.")
	if start < 0 || end < start {
		return nil, errors.New("dhammapada: chapters not found")
	}
	var answers []answer
	topic := ""
	for _, para := range strings.Split(text[start:end], "\n\n") {
		p := strings.TrimSpace(para)
		if m := dhammaChapter.FindStringSubmatch(p); m != nil {
			topic = "dhamma:" + strings.ToLower(m[2])
			continue
		}
		p = oneLine(verseNumber.ReplaceAllString(p, ""))
		if len(p) < 30 || len(p) > 450 || topic == "" {
			continue
		}
		answers = append(answers, answer{topic: topic, text: p})
	}
	if len(answers) < 300 {
		return nil, fmt.Errorf("dhammapada: only %d verses found", len(answers))
	}
	return answers, nil
}

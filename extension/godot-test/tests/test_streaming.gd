extends "res://test_case.gd"
## Acceptance: load a model, say(), receive generation_started, then N >= 5
## token signals, then reply_finished, all on the main thread; the tokens
## join to the reply, which is transformers' greedy reply for the same chat.


func run() -> void:
	var model := await load_model()
	var g := golden()
	var npc := make_npc(model)
	npc.max_tokens = g.greedy_ids.size()
	var rec := Recorder.new(npc)
	var typed_call_start := Time.get_ticks_usec()
	check_eq(npc.say(g.messages[0].content), OK, "say()")
	report("say_call_us", Time.get_ticks_usec() - typed_call_start)
	check(npc.is_generating(), "is_generating() right after say()")
	check(await wait_until(rec.done), "reply finished in time")
	check_eq(rec.failed, null, "generation_failed message")
	check_eq(rec.events.front(), "started", "first signal")
	check_eq(rec.events.back(), "finished", "last signal")
	check_eq(rec.events.count("token"), rec.tokens.size(), "token signal count")
	check(rec.tokens.size() >= 5, "at least 5 token signals, got %d" % rec.tokens.size())
	check_eq(rec.off_main_thread, 0, "signals emitted off the main thread")
	check_eq("".join(rec.tokens), rec.reply, "tokens joined equal the reply")
	check_eq(rec.reply, g.greedy_text, "reply equals transformers' greedy reply")
	check(not npc.is_generating(), "is_generating() after reply_finished")
	report("tokens", rec.tokens.size())

	var history := npc.get_history()
	check_eq(history, [{"role": "user", "content": g.messages[0].content}, {"role": "assistant", "content": rec.reply}], "history after say()")
	npc.queue_free()

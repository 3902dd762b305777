extends SceneTree
## Runs every tests/test_*.gd (or those named after `--`: `-- streaming
## history`) one after the other and exits non-zero on any failure.
##
##   godot --headless --path extension/godot-test -s res://run_tests.gd
##
## A test script extends res://test_case.gd and implements run(); it reports
## failures with check()/check_eq() and measured figures with report().

const TIMEOUT_S := 300.0


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	var watchdog := create_timer(TIMEOUT_S)
	watchdog.timeout.connect(func():
		printerr("FAIL: test suite timed out after %d s" % TIMEOUT_S)
		quit(2))
	var wanted := OS.get_cmdline_user_args()
	var failed := PackedStringArray()
	var ran := 0
	for file in _test_files():
		var short := file.get_file().trim_prefix("test_").trim_suffix(".gd")
		if not wanted.is_empty() and not wanted.has(short):
			continue
		var script: GDScript = load("res://tests/" + file)
		if script == null or not script.can_instantiate():
			printerr("   FAIL: ", file, " does not load")
			failed.append(short)
			continue
		var test: Node = script.new()
		test.name = short
		root.add_child(test)
		print("== ", short)
		var start := Time.get_ticks_msec()
		await test.run()
		ran += 1
		var ms := Time.get_ticks_msec() - start
		if test.failures.is_empty():
			print("   ok (%d ms)" % ms)
		else:
			failed.append(short)
			print("   FAILED (%d ms): %d check(s)" % [ms, test.failures.size()])
		test.queue_free()
		await process_frame
	if ran == 0 and failed.is_empty():
		printerr("FAIL: no test matched ", wanted)
		quit(1)
		return
	if failed.is_empty():
		print("ALL %d TEST SCRIPTS PASSED" % ran)
		quit(0)
	else:
		printerr("FAILED: ", ", ".join(failed))
		quit(1)


func _test_files() -> PackedStringArray:
	var files := PackedStringArray()
	for f in DirAccess.get_files_at("res://tests"):
		if f.begins_with("test_") and f.ends_with(".gd"):
			files.append(f)
	files.sort()
	return files

-- Drives a real Neovim (0.11, headless, `-l` script mode) against `skillway serve`.
--
--   nvim --headless --clean -l drive.lua OUT_DIR FILE ROOT PYTHON
--
-- Opens FILE, starts the skillway client for ROOT, then:
--   (a) textDocument/inlineCompletion at the cursor mark -> OUT_DIR/completion.json
--   (b) textDocument/codeAction on a characterwise selection, codeAction/resolve of the refactor
--       action, vim.lsp.util.apply_workspace_edit of its edit -> OUT_DIR/buffer.json
-- Every outcome (including errors and timeouts) is written to OUT_DIR/status.json, and Neovim always
-- leaves through `qa!`.

local out_dir, file, root, python = arg[1], arg[2], arg[3], arg[4]
local TIMEOUT = 20000

-- The spots the Python test chose (1-based lines, 0-based byte columns), passed in the environment.
local CURSOR_LINE = tonumber(vim.env.DRIVE_CURSOR_LINE)
local CURSOR_COL = tonumber(vim.env.DRIVE_CURSOR_COL)
local SELECT_FROM = tonumber(vim.env.DRIVE_SELECT_FROM)
local SELECT_TO = tonumber(vim.env.DRIVE_SELECT_TO)

local status = { steps = {} }

local function write_json(name, value)
  local handle = assert(io.open(out_dir .. "/" .. name, "w"))
  handle:write(vim.json.encode(value))
  handle:close()
end

local function step(name)
  table.insert(status.steps, name)
  write_json("status.json", status)
end

local function wait_for(what, predicate)
  if not vim.wait(TIMEOUT, predicate, 20) then
    error("timed out after " .. TIMEOUT .. " ms waiting for " .. what)
  end
end

local function only_result(responses, err, method)
  if responses == nil then
    error(method .. " failed: " .. tostring(err))
  end
  local _, response = next(responses)
  if response == nil then
    error(method .. ": no client answered (is the capability declared?)")
  end
  if response.err then
    error(method .. " returned an error: " .. vim.inspect(response.err))
  end
  return response.result
end

local function main()
  vim.cmd.edit(vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = "python"
  step("opened")

  local client_id = vim.lsp.start({
    name = "skillway",
    cmd = { python, "-m", "skillway", "serve" },
    root_dir = root,
  }, { bufnr = buf })
  if not client_id then
    error("vim.lsp.start returned nil")
  end
  local client = vim.lsp.get_client_by_id(client_id)
  wait_for("the client to be initialized", function()
    if client:is_stopped() then
      error("the server exited before initializing (see lsp.log)")
    end
    return client.initialized == true
  end)
  wait_for("the buffer to be attached", function()
    return vim.lsp.buf_is_attached(buf, client_id)
  end)
  status.offset_encoding = client.offset_encoding
  status.server_capabilities = {
    inline = client.server_capabilities.inlineCompletionProvider ~= nil,
    code_action = client.server_capabilities.codeActionProvider,
  }
  step("initialized")

  -- (a) inline completion at the cursor, after the last character of the line as in insert mode
  -- (normal mode would pull the cursor back onto the last character).
  vim.o.virtualedit = "onemore"
  vim.api.nvim_win_set_cursor(0, { CURSOR_LINE, CURSOR_COL })
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  local responses, err = vim.lsp.buf_request_sync(buf, "textDocument/inlineCompletion", {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = position,
    context = { triggerKind = 1 }, -- Invoked
  }, TIMEOUT)
  write_json("completion.json", {
    position = position,
    result = only_result(responses, err, "textDocument/inlineCompletion"),
  })
  step("completed")

  -- (b) a characterwise selection over whole lines, as `v` + motion would leave the marks.
  local last = vim.api.nvim_buf_get_lines(buf, SELECT_TO - 1, SELECT_TO, true)[1]
  vim.api.nvim_buf_set_mark(buf, "<", SELECT_FROM, 0, {})
  vim.api.nvim_buf_set_mark(buf, ">", SELECT_TO, math.max(#last - 1, 0), {})
  local range_params = vim.lsp.util.make_given_range_params(nil, nil, buf, client.offset_encoding)
  status.selection = range_params.range
  responses, err = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", {
    textDocument = range_params.textDocument,
    range = range_params.range,
    context = { diagnostics = {}, only = { "refactor" }, triggerKind = 1 },
  }, TIMEOUT)
  local actions = only_result(responses, err, "textDocument/codeAction") or {}
  status.titles = vim.tbl_map(function(a) return a.title end, actions)
  local refactor
  for _, action in ipairs(actions) do
    if type(action.data) == "table" and action.data.action == "refactor" then
      refactor = action
    end
  end
  if refactor == nil then
    error("no refactor action among " .. vim.inspect(status.titles))
  end
  step("listed")

  local resolved = client:request_sync("codeAction/resolve", refactor, TIMEOUT, buf)
  if resolved == nil then
    error("codeAction/resolve timed out")
  end
  if resolved.err then
    error("codeAction/resolve returned an error: " .. vim.inspect(resolved.err))
  end
  status.resolved = resolved.result
  if not (resolved.result and resolved.result.edit) then
    error("the resolved action has no edit: " .. vim.inspect(resolved.result))
  end
  step("resolved")

  vim.lsp.util.apply_workspace_edit(resolved.result.edit, client.offset_encoding)
  write_json("buffer.json", { lines = vim.api.nvim_buf_get_lines(buf, 0, -1, true) })
  step("applied")

  client:stop()
  vim.wait(3000, function()
    return client:is_stopped()
  end, 20)
  step("stopped")
end

local ok, problem = xpcall(main, debug.traceback)
status.ok = ok
if not ok then
  status.error = tostring(problem)
end
pcall(write_json, "status.json", status)
vim.cmd("qa!")

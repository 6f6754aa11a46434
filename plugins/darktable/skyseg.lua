--[[
  skyseg for darktable: a "create sky mask" button in the lighttable.

  It runs `skyseg mask <the selected images> --for darktable`, which writes each photo's sky
  matte (<photo file name>.png, 16-bit, in the file's stored orientation) into darktable's raster
  masks folder (preferences > processing, `plugins/darkroom/segments/def_path` in darktablerc),
  where the "external raster masks" module (darktable 5.4) reads it. Each image's outcome is
  shown (darktable's toast and its log), as the GIMP and Krita plug-ins report theirs.

  Installed by `skyseg install-plugin darktable` (never copied by hand): that puts this file in
  <darktable config>/lua/skyseg/ with skyseg_config.lua, the command of the skyseg environment
  it was run from (its Python with -m skyseg_core), and adds `require "skyseg/skyseg"` to luarc.
  POSIX systems (tested on Linux), not Windows: the command goes through /bin/sh.
]]

local dt = require "darktable"

local M = {}

M.metadata = {
  name = "skyseg",
  purpose = "sky masks for the external raster masks module",
  help = "https://github.com/skyseg/skyseg/blob/main/docs/plugins.md#darktable",
}

local here = (debug.getinfo(1, "S").source:match("^@(.*[/\\])")) or "./"

-- The command that runs skyseg, as install-plugin recorded it; nil and a reason if unusable.
local function load_config()
  local chunk, err = loadfile(here .. "skyseg_config.lua")
  if not chunk then
    return nil, "skyseg is not set up: run `skyseg install-plugin darktable` (" .. tostring(err) .. ")"
  end
  local ok, config = pcall(chunk)
  if not ok or type(config) ~= "table" or type(config.python) ~= "string" then
    return nil, "skyseg_config.lua is damaged: run `skyseg install-plugin darktable` again"
  end
  return config
end

local function quote(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

-- A JSON string starting at s[i] (the opening quote): the text and the index after it.
local ESCAPES = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
local function json_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then
      return nil
    elseif c == '"' then
      return table.concat(out), j + 1
    elseif c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local code = tonumber(s:sub(j + 2, j + 5), 16)
        if not code then return nil end
        j = j + 6
        if code >= 0xD800 and code <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
          local low = tonumber(s:sub(j + 2, j + 5), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
            j = j + 6
          end
        end
        out[#out + 1] = utf8.char(code)
      else
        out[#out + 1] = ESCAPES[e] or e
        j = j + 2
      end
    else
      out[#out + 1] = c
      j = j + 1
    end
  end
end

-- One line of `skyseg mask --json` (a flat object), or nil when the line is not one.
function M.parse_json_line(line)
  if line:sub(1, 1) ~= "{" then return nil end
  local obj, i = {}, 2
  while true do
    i = line:find("%S", i)
    if not i then return nil end
    local c = line:sub(i, i)
    if c == "}" then
      return obj
    elseif c == "," then
      i = i + 1
    elseif c == '"' then
      local key
      key, i = json_string(line, i)
      if not key then return nil end
      i = line:find("%S", i)
      if not i or line:sub(i, i) ~= ":" then return nil end
      i = line:find("%S", i + 1)
      if not i then return nil end
      if line:sub(i, i) == '"' then
        obj[key], i = json_string(line, i)
        if not i then return nil end
      else
        local raw = line:match("^[^,}]+", i)
        if not raw then return nil end
        i = i + #raw
        raw = raw:gsub("%s+$", "")
        if raw == "true" then
          obj[key] = true
        elseif raw == "false" then
          obj[key] = false
        elseif raw ~= "null" then
          obj[key] = tonumber(raw)
        end
      end
    else
      return nil
    end
  end
end

-- The shell command for `paths` (full paths of photo files).
function M.command(config, paths)
  local parts = {}
  if dt.configuration and dt.configuration.config_dir then
    -- skyseg reads the raster masks folder from the darktablerc of this darktable
    parts[#parts + 1] = "env DARKTABLE_CONFIGDIR=" .. quote(dt.configuration.config_dir)
  end
  parts[#parts + 1] = quote(config.python)
  for _, arg in ipairs(config.args or { "-m", "skyseg_core" }) do
    parts[#parts + 1] = quote(arg)
  end
  for _, arg in ipairs({ "mask", "--for", "darktable", "--json", "--quiet", "--overwrite" }) do
    parts[#parts + 1] = arg
  end
  if config.method then parts[#parts + 1] = "--method " .. quote(config.method) end
  parts[#parts + 1] = "--"
  for _, path in ipairs(paths) do
    parts[#parts + 1] = quote(path)
  end
  return table.concat(parts, " ") .. " 2>&1"
end

local function report(line)
  dt.print_log(line)
  if dt.gui then dt.print(line) end
end

local function basename(path)
  return path:match("([^/]+)$") or path
end

-- Run skyseg on `images` (darktable images); report each one; returns a list of
-- { path =, ok =, message = } in the images' order and the summary line.
function M.create_sky_masks(images)
  local config, problem = load_config()
  local paths, seen = {}, {}
  for _, image in ipairs(images) do
    local path = image.path .. "/" .. image.filename
    if not seen[path] then -- versions of one file share its mask
      seen[path] = true
      paths[#paths + 1] = path
    end
  end
  local results = {}
  if #paths == 0 then
    local line = "skyseg: select the images to make sky masks for"
    report(line)
    return results, line
  end
  if not config then
    report("skyseg: " .. problem)
    for _, path in ipairs(paths) do
      results[#results + 1] = { path = path, ok = false, message = problem }
    end
    return results, "skyseg: " .. problem
  end
  local job = dt.gui and dt.gui.create_job and dt.gui.create_job("skyseg: sky masks", true) or nil
  local outcome, other = {}, {}
  local pipe = io.popen(M.command(config, paths), "r")
  local done = 0
  for line in pipe:lines() do
    local obj = M.parse_json_line(line)
    if obj and obj.input and seen[obj.input] then
      done = done + 1
      outcome[obj.input] = obj
      local name = basename(obj.input)
      if obj.ok then
        local sky = obj.sky_fraction and string.format(" (%d%% sky)", math.floor(obj.sky_fraction * 100 + 0.5)) or ""
        obj.message = "sky mask " .. basename(obj.output or "?") .. sky
      else
        local err = obj.error or "failed"
        if err:sub(1, #obj.input + 2) == obj.input .. ": " then err = err:sub(#obj.input + 3) end
        obj.message = err
      end
      report("skyseg: " .. name .. ": " .. obj.message)
      if job then job.percent = done / #paths end
    elseif line:match("%S") and not obj then
      other[#other + 1] = line -- what skyseg said besides its results (a usage error, ...)
      dt.print_log(line)
    end
  end
  local _, _, status = pipe:close()
  if job then job.valid = false end
  local written, failed = 0, 0
  for _, path in ipairs(paths) do
    local obj = outcome[path]
    local entry
    if obj then
      entry = { path = path, ok = obj.ok == true, message = obj.message, output = obj.output }
    else
      local why = other[#other] or ("skyseg stopped (exit status " .. tostring(status) .. ")")
      why = why:gsub("^skyseg: error: ", "")
      entry = { path = path, ok = false, message = why }
      report("skyseg: " .. basename(path) .. ": " .. why)
    end
    if entry.ok then written = written + 1 else failed = failed + 1 end
    results[#results + 1] = entry
  end
  local summary = string.format("skyseg: %d sky mask%s written", written, written == 1 and "" or "s")
  if failed > 0 then summary = summary .. string.format(", %d failed", failed) end
  report(summary)
  M.last_results, M.last_summary = results, summary
  return results, summary
end

-- The button, in the lighttable's "actions on selection" module (GUI only: darktable-cli has none).
if dt.gui and dt.gui.libs and dt.gui.libs.image then
  dt.gui.libs.image.register_action(
    "skyseg_create_sky_mask",
    "create sky mask",
    function(_, images) M.create_sky_masks(images) end,
    "write the sky mask of each selected image into the raster masks folder, "
      .. "for the external raster masks module"
  )
  M.button = true
end

dt.print_log("skyseg: loaded (" .. (M.button and "button in the lighttable" or "no GUI") .. ")")

M.destroy = function()
  if M.button then dt.gui.libs.image.destroy_action("skyseg_create_sky_mask") end
end

return M

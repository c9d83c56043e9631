-- Argo CD health of a marina Bay, from the conditions marina writes (kstatus conventions):
-- Stalled=True needs a person (Degraded); Ready=True serves (Healthy, also while certificates rotate
-- or the bay grows); anything else is on its way (Progressing), or Degraded when marina says so.
hs = {}
local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "waiting for marina to report the bay's status"
  return hs
end
if status.observedGeneration ~= nil and obj.metadata.generation ~= nil and status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "marina has not acted on the latest spec yet"
  return hs
end
local ready = nil
for _, condition in ipairs(status.conditions) do
  if condition.type == "Stalled" and condition.status == "True" then
    hs.status = "Degraded"
    hs.message = condition.reason .. ": " .. condition.message
    return hs
  end
  if condition.type == "Ready" then
    ready = condition
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
if status.phase == "Degraded" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
if ready ~= nil then
  hs.message = ready.reason .. ": " .. ready.message
else
  hs.message = "phase " .. (status.phase or "Pending")
end
return hs

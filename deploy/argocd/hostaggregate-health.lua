-- Argo CD health of a marina HostAggregate: Healthy when every host is ready, Degraded when one is not
-- (the message names each host and why), Progressing until marina has probed the hosts.
hs = {}
local status = obj.status
if status ~= nil and status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      if condition.status == "True" then
        hs.status = "Healthy"
      else
        hs.status = "Degraded"
      end
      hs.message = condition.message
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "waiting for marina to probe the hosts"
return hs

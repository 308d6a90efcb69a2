# kmsguard: KMS client set-up and activation for Windows in Azure.
# Generated from the kmsguard catalog; regenerate it instead of editing the data block.
$ErrorActionPreference = 'Continue'
if ($PSVersionTable.PSVersion.Major -lt 3) {
    Write-Output 'kmsguard: start: failed: PowerShell 3.0 or later is required'
    exit 2
}
$Config = @'
{
  "attempts": 12,
  "channelPattern": "\\b([A-Z][A-Z_]+) channel\\b",
  "checkImds": true,
  "cloud": "public",
  "connectTimeoutMs": 3000,
  "delaySeconds": 5,
  "edition": "Datacenter: Azure Edition",
  "endpoints": [
    {
      "fqdn": "azkms.core.windows.net",
      "ip": "20.118.99.224",
      "port": 1688
    },
    {
      "fqdn": "azkms.core.windows.net",
      "ip": "40.83.235.53",
      "port": 1688
    },
    {
      "fqdn": "kms.core.windows.net",
      "ip": "23.102.135.246",
      "port": 1688
    }
  ],
  "errorPattern": "0x[0-9A-Fa-f]{8}",
  "errors": {
    "0x80070005": "access denied: the command was not run elevated",
    "0x800705B4": "timeout: network connectivity or DNS resolution",
    "0xC004E015": "EUL consumption failed",
    "0xC004F06C": "the KMS judged the request time invalid: Windows Time not running, NtpClient disabled or a domain member not syncing with AD DS",
    "0xC004F074": "no KMS could be contacted: network path (forced tunnel, appliance, internal load balancer without outbound, DNS), guest firewall or wrong /skms; also shown for 0xC004F06C",
    "0xC004FD01": "AVMA in Azure: not running on a supported Hyper-V platform; install the GVLK",
    "0xC004FD02": "AVMA in Azure: Windows is not activated on the host; install the GVLK"
  },
  "gvlk": "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV",
  "imds": {
    "ip": "169.254.169.254",
    "port": 80
  },
  "installKeyChannels": [
    "RETAIL",
    "VIRTUAL_MACHINE_ACTIVATION"
  ],
  "keepKeyChannels": [
    "VOLUME_KMSCLIENT"
  ],
  "kmsHost": "azkms.core.windows.net",
  "neverChangeKeyPattern": "ServerRdsh",
  "port": 1688,
  "product": "Windows Server",
  "reasons": {
    "install-gvlk": "channel {0} is not a KMS client; the GVLK for {1} {2} is installed",
    "keep-key": "channel {0} is already a KMS client; the key is kept",
    "multi-session": "channel {0} on a multi-session (ServerRdsh) image: changing its key cannot be undone (docs/rules.md#image-channel); nothing was changed",
    "no-channel": "the license channel is not in the slmgr /dlv output; nothing was changed",
    "other-channel": "channel {0} is not a KMS client channel (expected one of {1}); the key is left as it is"
  },
  "version": "2022"
}
'@ | ConvertFrom-Json

$script:Steps = New-Object System.Collections.ArrayList

function Get-Meaning([string]$Code) {
    if ($Code -and $Config.errors.PSObject.Properties[$Code]) { return [string]$Config.errors.$Code }
    return ''
}

function Add-Step([string]$Name, [string]$Result, [string]$Detail, [string]$Code = '') {
    $meaning = Get-Meaning $Code
    [void]$script:Steps.Add([ordered]@{ step = $Name; result = $Result; detail = $Detail; code = $Code; meaning = $meaning })
    $suffix = ''
    if ($Code) { $suffix = " [$Code $meaning]" }
    Write-Output ('kmsguard: {0}: {1}: {2}{3}' -f $Name, $Result, $Detail, $suffix)
}

function Complete-Run([bool]$Activated, [string]$Channel) {
    $result = [ordered]@{ activated = $Activated; channel = $Channel; cloud = $Config.cloud; kmsHost = $Config.kmsHost; steps = $script:Steps }
    Write-Output ('kmsguard-result: ' + (ConvertTo-Json -InputObject $result -Depth 4 -Compress))
    if ($Activated) { exit 0 }
    exit 1
}

function Invoke-Slmgr([string[]]$Arguments) {
    $slmgr = Join-Path $env:SystemRoot 'System32\slmgr.vbs'
    $output = (& cscript.exe //NoLogo $slmgr @Arguments 2>&1 | Out-String).Trim()
    $exitCode = $LASTEXITCODE
    $code = ''
    $match = [regex]::Match($output, $Config.errorPattern)
    if ($match.Success) { $code = '0x' + $match.Value.Substring(2).ToUpperInvariant() }
    $failed = [bool]$code -or ($exitCode -ne 0)
    return [pscustomobject]@{ Output = $output; Code = $code; Failed = $failed }
}

function Get-Decision([string]$Dlv) {
    $match = [regex]::Match($Dlv, $Config.channelPattern)
    if (-not $match.Success) {
        return [pscustomobject]@{ Channel = ''; Action = 'stop'; Reason = $Config.reasons.'no-channel' }
    }
    $channel = $match.Groups[1].Value
    if ($Config.keepKeyChannels -ccontains $channel) {
        return [pscustomobject]@{ Channel = $channel; Action = 'keep-key'; Reason = ($Config.reasons.'keep-key' -f $channel) }
    }
    if ($Config.installKeyChannels -ccontains $channel) {
        if ([regex]::IsMatch($Dlv, $Config.neverChangeKeyPattern)) {
            return [pscustomobject]@{ Channel = $channel; Action = 'stop'; Reason = ($Config.reasons.'multi-session' -f $channel) }
        }
        $reason = $Config.reasons.'install-gvlk' -f $channel, $Config.version, $Config.edition
        return [pscustomobject]@{ Channel = $channel; Action = 'install-gvlk'; Reason = $reason }
    }
    $expected = (@($Config.keepKeyChannels) + @($Config.installKeyChannels)) -join ', '
    return [pscustomobject]@{ Channel = $channel; Action = 'stop'; Reason = ($Config.reasons.'other-channel' -f $channel, $expected) }
}

function Test-Tcp([string]$Address, [int]$Port) {
    $client = New-Object System.Net.Sockets.TcpClient
    try {
        $task = $client.ConnectAsync($Address, $Port)
        if ($task.Wait([int]$Config.connectTimeoutMs)) { return $client.Connected }
        return $false
    } catch {
        return $false
    } finally {
        $client.Close()
    }
}

$dlv = Invoke-Slmgr @('/dlv')
$decision = Get-Decision $dlv.Output
if ($decision.Action -eq 'stop') {
    Add-Step 'read-channel' 'failed' $decision.Reason $dlv.Code
    Complete-Run $false $decision.Channel
}
Add-Step 'read-channel' 'ok' $decision.Reason

if ($decision.Action -eq 'install-gvlk') {
    $ipk = Invoke-Slmgr @('/ipk', $Config.gvlk)
    if ($ipk.Failed) {
        Add-Step 'install-gvlk' 'failed' ('slmgr /ipk {0}: {1}' -f $Config.gvlk, $ipk.Output) $ipk.Code
        Complete-Run $false $decision.Channel
    }
    Add-Step 'install-gvlk' 'ok' ('installed the GVLK of {0} {1} {2}' -f $Config.product, $Config.version, $Config.edition)
} else {
    Add-Step 'install-gvlk' 'skipped' 'the installed key is a KMS client key'
}

$ckms = Invoke-Slmgr @('/ckms')
if ($ckms.Failed) {
    Add-Step 'clear-kms-host' 'failed' $ckms.Output $ckms.Code
    Complete-Run $false $decision.Channel
}
Add-Step 'clear-kms-host' 'ok' 'slmgr /ckms'

$target = '{0}:{1}' -f $Config.kmsHost, $Config.port
$skms = Invoke-Slmgr @('/skms', $target)
if ($skms.Failed) {
    Add-Step 'set-kms-host' 'failed' ('slmgr /skms {0}: {1}' -f $target, $skms.Output) $skms.Code
    Complete-Run $false $decision.Channel
}
Add-Step 'set-kms-host' 'ok' ('slmgr /skms {0}' -f $target)

try {
    $addresses = @([System.Net.Dns]::GetHostAddresses($Config.kmsHost) | ForEach-Object { $_.IPAddressToString })
    Add-Step 'resolve-kms-host' 'ok' ('{0} resolves to {1}' -f $Config.kmsHost, ($addresses -join ', '))
} catch {
    Add-Step 'resolve-kms-host' 'failed' ('{0} does not resolve: {1}' -f $Config.kmsHost, $_.Exception.Message) '0x800705B4'
}

foreach ($endpoint in $Config.endpoints) {
    $label = '{0} {1}:{2}' -f $endpoint.fqdn, $endpoint.ip, $endpoint.port
    if (Test-Tcp $endpoint.ip ([int]$endpoint.port)) {
        Add-Step 'tcp' 'ok' ('{0} accepts TCP connections' -f $label)
    } else {
        Add-Step 'tcp' 'failed' ('{0} is not reachable over TCP' -f $label) '0xC004F074'
    }
}

if ($Config.checkImds) {
    if (Test-Tcp $Config.imds.ip ([int]$Config.imds.port)) {
        Add-Step 'imds' 'ok' ('IMDS {0}:{1} is reachable (Azure Edition attestation)' -f $Config.imds.ip, $Config.imds.port)
    } else {
        Add-Step 'imds' 'failed' ('IMDS {0}:{1} is not reachable: Azure Edition shows the activation watermark; bypass proxies for IMDS and allow AzurePlatformIMDS' -f $Config.imds.ip, $Config.imds.port)
    }
}

$activated = $false
for ($attempt = 1; $attempt -le [int]$Config.attempts; $attempt++) {
    $ato = Invoke-Slmgr @('/ato')
    if (-not $ato.Failed) {
        Add-Step 'activate' 'ok' ('activated on attempt {0} of {1}' -f $attempt, $Config.attempts)
        $activated = $true
        break
    }
    if ($attempt -lt [int]$Config.attempts) {
        Add-Step 'activate' 'retry' ('attempt {0} of {1} failed; next in {2} s' -f $attempt, $Config.attempts, $Config.delaySeconds) $ato.Code
        Start-Sleep -Seconds ([int]$Config.delaySeconds)
    } else {
        Add-Step 'activate' 'failed' ('attempt {0} of {1} failed: {2}' -f $attempt, $Config.attempts, $ato.Output) $ato.Code
    }
}
Complete-Run $activated $decision.Channel

"""The PowerShell script that makes a Windows VM a KMS client of its cloud and activates it.

The script is a fixed template plus one JSON data block (``decide.plan_data``): keys, hosts,
endpoints, patterns and reason texts all come from the block, so the template never holds a
key or an address, and its decision logic has a tested Python twin (``decide.decide``).

Steps (§8.1, §8.3, §8.4): read the channel with ``slmgr /dlv``; install the GVLK with ``/ipk``
when the channel is RETAIL or VIRTUAL_MACHINE_ACTIVATION; ``/ckms`` then ``/skms host:port``;
resolve the host and test TCP to every KMS IP of the cloud (and IMDS for Azure Edition); ``/ato``
up to ``attempts`` times, ``delaySeconds`` apart. Each step prints one ``kmsguard:`` line, with
the error code and its meaning (§8.5); the last line is ``kmsguard-result: {json}``. Exit code
0 means activated. Running it again is harmless: a VOLUME_KMSCLIENT image only gets its KMS
host set again and another activation attempt.
"""

from __future__ import annotations

import base64
import gzip
import json

from kmsguard.activation.decide import plan_data
from kmsguard.activation.target import ActivationTarget

__all__ = ["DATA_MARKER", "bootstrap_command", "data_block", "render_script"]

DATA_MARKER = "@@KMSGUARD_DATA@@"

_TEMPLATE = r"""# kmsguard: KMS client set-up and activation for Windows in Azure.
# Generated from the kmsguard catalog; regenerate it instead of editing the data block.
$ErrorActionPreference = 'Continue'
if ($PSVersionTable.PSVersion.Major -lt 3) {
    Write-Output 'kmsguard: start: failed: PowerShell 3.0 or later is required'
    exit 2
}
$Config = @'
@@KMSGUARD_DATA@@
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
"""


def data_block(target: ActivationTarget) -> str:
    # Sorted, indented JSON keeps generated scripts stable and diffable between catalog versions.
    return json.dumps(plan_data(target), indent=2, sort_keys=True, ensure_ascii=True)


def render_script(target: ActivationTarget) -> str:
    block = data_block(target)
    # The block sits in a single-quoted here-string, which ends at a line starting with '@.
    if "\n'@" in block:
        raise ValueError("the activation data block would end the PowerShell here-string")
    return _TEMPLATE.replace(DATA_MARKER, block)


def bootstrap_command(script: str) -> str:
    """A ``powershell.exe`` command line that runs ``script`` (for CustomScriptExtension).

    The script travels gzip-compressed in base64, which needs no quoting and keeps the command
    line far below the Windows limit that a plain ``-EncodedCommand`` of the script would risk.
    """
    payload = base64.b64encode(gzip.compress(script.encode("utf-8"), mtime=0)).decode("ascii")
    inner = (
        "$b=[Convert]::FromBase64String('" + payload + "');"
        "$m=New-Object IO.MemoryStream(,$b);"
        "$z=New-Object IO.Compression.GZipStream($m,[IO.Compression.CompressionMode]::Decompress);"
        "$s=(New-Object IO.StreamReader($z,[Text.Encoding]::UTF8)).ReadToEnd();"
        "& ([scriptblock]::Create($s)); exit $LASTEXITCODE"
    )
    return f'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "{inner}"'

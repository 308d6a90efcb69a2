"""Classic ``azure`` provider (pulumi-azure) resources → the same typed network model.

The classic provider (a bridged Terraform provider) describes the same ARM resources as
azure-native under other property names and, for attachments, as separate *association*
resources (``SubnetRouteTableAssociation`` …) instead of a property of the subnet. So:

* ``types``     — classic type tokens: the ones read, the ones known to be irrelevant to the KMS
  path, and the network-relevant ones not read yet;
* ``translate`` — a read classic resource's decoded properties renamed into the azure-native shape
  the azure-native builders read (same ARM ids, so references across providers resolve: a mixed
  classic + azure-native stack is one stack);
* ``translate_edge`` — the same for standalone children azure-native declares otherwise (firewall rule
  collections, resolver rulesets, AVNM, gateway connections), and their effect on the built model;
* ``collector`` — builds the model with the azure-native builders, applies the associations, and
  makes every subnet ``unknown`` when the stack holds classic network resources that are not read:
  until a type is understood it is never ignored (a silent pass is the one thing DESIGN forbids).

Property names come from the installed ``pulumi-azure`` SDK's resource classes (6.40.1); nothing
here imports it (the pack must start fast).
"""

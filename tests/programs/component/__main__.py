"""Two spokes built by a component class defined in this project."""

from spoke import Spoke

Spoke("spoke1", "rg-spokes", "10.1.0.0/24")
Spoke("spoke2", "rg-spokes", "10.2.0.0/24")

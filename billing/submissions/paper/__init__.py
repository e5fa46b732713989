"""Paper claims: the CMS-1500 (02/12) printed from the same claim facts as the 837P, and mailing them."""

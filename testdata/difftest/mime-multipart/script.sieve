require ["vacation"];
vacation :mime text:
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain

away
--b1
Content-Type: text/html

<p>away</p>
--b1--
.
;
